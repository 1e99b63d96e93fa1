"""What can go wrong with accounts, in the domain's words (kinds of funsun.api.errors)."""

from funsun.api.errors import NotPermitted, NotSignedIn, StateConflict


class EmailTaken(StateConflict):
    default_detail = "An account with this email already exists."


class NotAuthenticated(NotSignedIn):
    """Wrong credentials or an unusable refresh token (the app re-authenticates)."""

    default_detail = "Authentication failed."


class AccountDeactivated(NotPermitted):
    default_detail = "This account has been deactivated."
