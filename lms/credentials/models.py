"""Status entries of the Open Badges issued here: one index per certificate, so a
withdrawn certificate can be published as revoked in a Bitstring Status List."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from lms.db import Model, UTCDateTime, utcnow


class CredentialStatus(Model):
    """The status-list index given to a certificate's badge the first time it is issued.

    The row never refers to the completion (which disappears when it is withdrawn): the
    status list marks an index revoked when no completion has its certificate number.
    """

    __tablename__ = "credential_status"

    #: The bit of the certificate in the status lists (1-based; list n holds
    #: indices (n-1)*LIST_SIZE .. n*LIST_SIZE-1).
    id: Mapped[int] = mapped_column(primary_key=True)
    certificate_number: Mapped[str] = mapped_column(sa.String(40), unique=True)
    issued_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
