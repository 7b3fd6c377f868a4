"""The health-insurance (BHYT) check with the BHXH gateway (``docs/spec/bhyt-gateway.md``):
``codes`` (the ``maKetQua`` table), ``wire`` (one bounded exchange), ``answers`` (what the
desk is told), ``client`` (tokens, the check, the visit history), ``officers`` (who asks),
``checks`` (checks in progress at the desks).
"""

from service.integrations.bhyt.answers import (
    InsuranceCheck,
    birth_date_form,
    card_code_form,
    compare,
    lower_keys,
    not_configured,
    unavailable,
)
from service.integrations.bhyt.client import (
    CHECK_PATH,
    HISTORY_PATH,
    TOKEN_PATH,
    BhytClient,
    md5_hex,
)
from service.integrations.bhyt.codes import NOT_KEPT_STATUSES, RESULT_CODES, ResultCode
from service.integrations.bhyt.officers import Officer, OfficerBook

__all__ = [
    "CHECK_PATH",
    "HISTORY_PATH",
    "NOT_KEPT_STATUSES",
    "RESULT_CODES",
    "TOKEN_PATH",
    "BhytClient",
    "InsuranceCheck",
    "Officer",
    "OfficerBook",
    "ResultCode",
    "birth_date_form",
    "card_code_form",
    "compare",
    "lower_keys",
    "md5_hex",
    "not_configured",
    "unavailable",
]
