"""Extensions, created unbound and bound to an app in ``create_app``."""

from collections.abc import Iterable
from typing import TYPE_CHECKING, cast

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import CheckConstraint, MetaData, Table
from sqlalchemy.orm import DeclarativeBase

# Fixed constraint names, set before the first migration, so Alembic (and SQLite batch mode)
# can always find and rebuild them.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)

# Models subclass ``Model``: at run time Flask-SQLAlchemy's ``db.Model`` (bound to the app's session and
# metadata); for the type checker the typed declarative base it is built from.
if TYPE_CHECKING:
    Model = Base
else:
    Model = db.Model

migrate = Migrate()
csrf = CSRFProtect()
login_manager = LoginManager()
limiter = Limiter(key_func=get_remote_address, default_limits=[])


def table_of(model: type[Base]) -> Table:
    """A mapped class's table, typed as the ``Table`` it is (the stubs say only ``FromClause``)."""
    return cast(Table, model.__table__)


def one_of(column: str, values: Iterable[str], name: str | None = None) -> CheckConstraint:
    """A CHECK that ``column`` holds one of ``values`` (a vocabulary tuple); named ``<column>_known``."""
    listed = ", ".join(f"'{v}'" for v in values)
    return CheckConstraint(f"{column} IN ({listed})", name=name or f"{column}_known")
