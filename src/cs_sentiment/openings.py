"""Openings an agent can send as they are, composed from written parts, and the business policy behind them.

An opening is built from the parts in ``data/lexicons/opening_parts.tsv``
(each in simplified, Taiwan and Hong Kong wording; reviewed against
``opening_parts_CHECKLIST.md``):

1. an **acknowledgement** naming the customer's feeling at its strength (none
   for a calm or pleased customer), and an **apology** only when the plan has
   an ``apologize`` step;
2. an **action** about the customer's **topic** (物流, 退款, 发票, 账号 …): what
   the agent does now (查, 核实, 为您处理, 转给专人), never a claim that
   something was already done;
3. a **promise** only where the business :class:`Policy` allows one
   (compensation and its form, the return window, service hours, who handles
   escalations). Without a policy an opening promises nothing concrete.

Acknowledgements, thanks and closings get a short closing reply; an unsure
analysis gets a clarifying question. Variants are chosen deterministically
from the message.

>>> parts = OpeningParts.load()
>>> parts.compose(strategy="inform", emotion="neutral", level="low", intent="order_status", steps=("answer",),
...               variant="simplified", seed="快递到哪了")
'订单物流这边我来帮您确认一下。'
>>> parts.compose(strategy="apologize_compensate", emotion="angry", level="high", intent="product_quality",
...               steps=("acknowledge_emotion", "apologize", "offer_remedy", "offer_compensation"),
...               variant="simplified", seed="x",
...               policy=Policy(compensation="10元无门槛券"))
'您现在一定非常气愤，这样的经历确实让人难以接受。真的很抱歉让您遇到这样的情况。商品质量的问题我现在就为您处理。给您带来的不便，我们可以为您提供10元无门槛券作为补偿。'
"""

from __future__ import annotations

import re
import sys
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from .exceptions import LexiconFormatError, PolicyError
from .lexicon import read_tsv
from .normalize import to_traditional
from .resources import lexicon_root

__all__ = ["OUTLINE_STEPS", "OpeningParts", "Policy", "PolicyError", "script_variant"]

PARTS_FILE = "opening_parts.tsv"
PARTS_HEADER = ("slot", "key", "variant", "simplified", "taiwan", "hongkong", "needs", "source")
SLOTS = ("ack", "apology", "topic", "action", "handler", "promise", "close", "clarify", "outline")
#: Emotions a customer shows when not upset: no acknowledgement, no apology (taxonomy v1.1).
CALM = frozenset({"neutral", "satisfied"})
#: Intents whose calm turns are acknowledgements, thanks or closings: they get a closing reply.
CLOSING_INTENTS = frozenset({"praise", "other"})
#: Which promise fits which strategy (and intent), when the policy allows it.
PROMISES: dict[str, tuple[str, ...]] = {
    "apologize_compensate": ("compensation",),
    "reassure": ("return_window_days",),
    "escalate": ("service_hours",),
}
RETURN_WINDOW_INTENTS = frozenset({"product_info", "price_promotion", "return_refund", "product_quality"})
OUTLINE_STEPS = ("acknowledge_emotion", "apologize", "explain", "guide", "offer_remedy", "offer_compensation",
                 "reassure", "answer", "recommend", "express_care", "follow_up", "handoff", "clarify")
#: Words only Hong Kong (Cantonese) customers write: such a message is answered in Hong Kong wording.
_CANTONESE = re.compile(r"[唔咗嘅喺冇咩啲嚟噉佢哋囉嘢睇搵俾咁乜]")
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


@dataclass(frozen=True, slots=True)
class Policy:
    """What the business allows an agent to promise. Every field is optional; empty promises nothing.

    Parameters
    ----------
    compensation : str
        The compensation an agent may offer, as the customer should read it
        (``"10元无门槛券"``); offered only when the plan has ``offer_compensation``.
    return_window_days : int
        Days after delivery within which items may be returned (reassures a hesitant or worried customer).
    service_hours : str
        Service hours (``"每天 9:00-21:00"``), told when a case is handed over.
    escalation_contact : str
        Who takes escalations (``"售后主管"``); without it, ``专人``.

    Examples
    --------
    >>> Policy.from_value({"compensation": "5元券", "return_window_days": 7}).return_window_days
    7
    >>> Policy.from_value({"refund_days": 3})
    Traceback (most recent call last):
    ...
    cs_sentiment.exceptions.PolicyError: unknown policy key 'refund_days'; valid keys: compensation, escalation_contact, return_window_days, service_hours
    """

    compensation: str | None = None
    return_window_days: int | None = None
    service_hours: str | None = None
    escalation_contact: str | None = None

    def __post_init__(self) -> None:
        for name in ("compensation", "service_hours", "escalation_contact"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, str) or not value.strip() or len(value) > 60
                                      or "\n" in value):
                raise PolicyError(f"policy key {name!r} must be a short one-line text, got {value!r:.60}")
        days = self.return_window_days
        if days is not None and (isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 365):
            raise PolicyError(f"policy key 'return_window_days' must be a whole number of days in [1, 365], "
                              f"got {days!r:.40}")

    @classmethod
    def from_value(cls, value: Policy | Mapping[str, Any] | str | Path | None) -> Policy:
        """A policy from a mapping, a TOML file (path), or ``None`` (promises nothing)."""
        if value is None:
            return cls()
        if isinstance(value, Policy):
            return value
        if isinstance(value, (str, Path)):
            value = _read_toml(Path(value))
        if not isinstance(value, Mapping):
            raise PolicyError(f"policy must be a mapping, a TOML file or a Policy, got {type(value).__name__}")
        names = sorted(f.name for f in fields(cls))
        unknown = [k for k in value if k not in names]
        if unknown:
            raise PolicyError(f"unknown policy key {unknown[0]!r}; valid keys: {', '.join(names)}")
        return cls(**dict(value))

    def allows(self, name: str) -> bool:
        return getattr(self, name, None) is not None


def _read_toml(path: Path) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        raise FileNotFoundError(f"policy file {path} not found") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise PolicyError(f"{path}: not valid TOML: {exc}") from None
    section = data.get("policy")
    return section if isinstance(section, dict) else data


def script_variant(script: str, message: str) -> str:
    """``simplified``, ``hongkong`` (traditional with Cantonese words) or ``taiwan`` (other traditional).

    >>> script_variant("traditional", "唔該幫我查下"), script_variant("traditional", "請問何時出貨"), script_variant("simplified", "x")
    ('hongkong', 'taiwan', 'simplified')
    """
    if script != "traditional":
        return "simplified"
    return "hongkong" if _CANTONESE.search(message) else "taiwan"


@dataclass(frozen=True)
class OpeningParts:
    """The written parts, by (slot, key): each a tuple of variants ``{simplified, taiwan, hongkong}``."""

    parts: dict[tuple[str, str], tuple[dict[str, str], ...]]

    @classmethod
    def load(cls, directory: str | Path | None = None) -> OpeningParts:
        """Read ``opening_parts.tsv`` from ``directory`` (default: the packaged lexicons)."""
        root = lexicon_root() if directory is None else Path(directory)
        text = (root / PARTS_FILE).read_text(encoding="utf-8")
        grouped: dict[tuple[str, str], list[tuple[int, dict[str, str]]]] = {}
        for line, f in read_tsv(text, PARTS_FILE, PARTS_HEADER):
            slot, key = f[0], f[1]
            if slot not in SLOTS:
                raise LexiconFormatError(f"{PARTS_FILE}:{line}: unknown slot {slot!r}; slots are {', '.join(SLOTS)}")
            texts = {"simplified": f[3], "taiwan": f[4], "hongkong": f[5] if f[5] != "-" else f[4]}
            needs = f[6]
            for name in {p for t in texts.values() for p in _PLACEHOLDER.findall(t)}:
                if name not in ("topic", "handler") and name != needs:
                    raise LexiconFormatError(f"{PARTS_FILE}:{line}: placeholder {{{name}}} needs the policy key "
                                             f"in the needs column")
            grouped.setdefault((slot, key), []).append((int(f[2]), texts))
        return cls({k: tuple(t for _, t in sorted(v, key=lambda x: x[0])) for k, v in grouped.items()})

    def _pick(self, slot: str, keys: tuple[str, ...], variant: str, seed: str) -> str | None:
        for key in keys:
            options = self.parts.get((slot, key))
            if options:
                return options[zlib.crc32(f"{slot}|{seed}".encode("utf-8", "surrogatepass")) % len(options)][variant]
        return None

    def compose(self, *, strategy: str, emotion: str, level: str, intent: str, steps: tuple[str, ...],
                variant: str, seed: str, unsure: bool = False, policy: Policy | None = None) -> str:
        """The opening for one analysis (see the module docs for the rules)."""
        policy = policy or Policy()
        upset = emotion not in CALM
        topic = self._pick("topic", (intent,), variant, seed)
        if not upset and intent in CLOSING_INTENTS and not unsure:
            return self._pick("close", ("thanks" if intent == "praise" else "ack",), variant, seed) or ""
        out: list[str] = []
        if upset:
            ack = self._pick("ack", (f"{emotion}:{level}", f"{emotion}:*"), variant, seed)
            if ack:
                out.append(ack)
            if "apologize" in steps:
                out.append(self._pick("apology", ("*",), variant, seed) or "")
        if unsure:
            question = self._pick("clarify", ("topic",), variant, seed) if topic else None
            out.append((question or self._pick("clarify", ("*",), variant, seed) or "").replace("{topic}", topic or ""))
            return "".join(out)
        handler = policy.escalation_contact or self._pick("handler", ("*",), variant, seed) or ""
        keys = (strategy,) if topic else ()
        action = self._pick("action", (*keys, f"{strategy}:-"), variant, seed)
        if action:
            out.append(action.replace("{topic}", topic or "").replace("{handler}", handler))
        for name in PROMISES.get(strategy, ()):
            if not policy.allows(name):
                continue
            if name == "compensation" and "offer_compensation" not in steps:
                continue
            if name == "return_window_days" and intent not in RETURN_WINDOW_INTENTS:
                continue
            promise = self._pick("promise", (name,), variant, seed)
            if promise:
                value = getattr(policy, name)
                if variant != "simplified" and isinstance(value, str):

                    value = to_traditional(value)
                out.append(promise.replace("{" + name + "}", str(value)))
        return "".join(out)

    def outline(self, steps: tuple[str, ...], variant: str) -> tuple[str, ...]:
        """One short line per step, for an agent-assist panel beside the opening."""
        lines = []
        for step in steps:
            options = self.parts.get(("outline", step))
            if options:
                lines.append(options[0][variant])
        return tuple(lines)

