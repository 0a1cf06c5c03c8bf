"""The case service: the only writer of cases, and case numbers with their check digit."""

from .service import (
    CHANNELS,
    STATUSES,
    CaseError,
    CaseStatus,
    NewCase,
    case_status,
    config_differences,
    create_case,
    expected_by,
    find_case,
    public_notes,
    purge_closed_contacts,
    service_type_by_code,
    sync_config,
    update_status,
)

__all__ = ["CHANNELS", "STATUSES", "CaseError", "CaseStatus", "NewCase", "case_status", "create_case", "expected_by",
           "find_case",
           "public_notes", "purge_closed_contacts", "service_type_by_code", "sync_config", "update_status",
           "config_differences"]
