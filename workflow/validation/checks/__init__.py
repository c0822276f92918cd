"""The shipped check functions; importing this package registers them all."""

from workflow.validation.checks import amounts, codes, dates, generic, patient, payer, providers  # noqa: F401
