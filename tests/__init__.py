from . import (
    test_access_rights,
    test_bad_input,
    test_browser,
    test_bulk_invite,
    test_link_mode,
    test_login,
    test_login_timing,
    test_random_password_mail,
    test_rpc_access,
    test_sessions,
    test_temporary_password,
    test_username,
)
