"""The case API simulator: the whole contract of design §4 over generated, realistic data.

A district-year of dossiers (`generate`), an in-memory case system with a change log
(`SimulatorState`), its Starlette app (`create_app`), signed pushes (`Pusher`), an
auto-advance (`Advancer`), and `run_simulator` to serve it all inside the current loop.
"""

from bot.caseapi.simulator.advance import Advancer
from bot.caseapi.simulator.app import create_app
from bot.caseapi.simulator.generator import generate
from bot.caseapi.simulator.pusher import SIGNATURE_HEADER, Pusher, sign
from bot.caseapi.simulator.record import SimDossier
from bot.caseapi.simulator.runner import RunningSimulator, build_state, run_simulator
from bot.caseapi.simulator.state import (
    InvalidRequest,
    InvalidTransition,
    SimChangesPage,
    SimulatorState,
    UnknownDossier,
)

__all__ = [
    "SIGNATURE_HEADER",
    "Advancer",
    "InvalidRequest",
    "InvalidTransition",
    "Pusher",
    "RunningSimulator",
    "SimChangesPage",
    "SimDossier",
    "SimulatorState",
    "UnknownDossier",
    "build_state",
    "create_app",
    "generate",
    "run_simulator",
    "sign",
]
