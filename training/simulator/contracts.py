"""Write the contract rates the simulator paid by, in the operator's contract CSV format.

Each payer pays every procedure at its base rate times the payer's contract factor, per unit and
never above the charge (``claims._line_allowed``), so the table lets the underpayment check
find the simulated underpayments the way it would find real ones.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from training.simulator.claims import CENT, base_rate
from training.simulator.parameters import parameters_with_prefix
from training.simulator.world import World
from workflow.remittance.contracts import ContractRate, write_contracts

__all__ = ["CONTRACTS_FILE", "write_simulated_contracts"]

CONTRACTS_FILE = "contracts.csv"


def write_simulated_contracts(world: World, start: dt.date, out_dir: Path) -> Path:
    """Write one rate per payer and procedure code, in force from the first simulated day."""
    codes = sorted(parameters_with_prefix("fee."))
    rates = [
        ContractRate(
            payer_id=payer.payer_id,
            procedure_code=code,
            allowed_amount=(base_rate(code) * payer.contract_factor).quantize(CENT),
            percent_of_charge=None,
            effective_from=start,
            effective_to=None,
        )
        for payer in world.payers
        for code in codes
    ]
    path = out_dir / CONTRACTS_FILE
    write_contracts(rates, path)
    return path
