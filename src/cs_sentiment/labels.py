"""The label contract of ``../shared/spec/taxonomy.md`` as enums and tables.

Label ids are stable snake_case strings. Every enum derives from ``str``, so a
label compares equal to its id and serialises to JSON as that id:

>>> Emotion.ANGRY == "angry", str(Emotion.ANGRY), Emotion("hesitant").label_zh
(True, 'angry', '犹豫')
>>> NEED_BY_INTENT[Intent.RETURN_REFUND]
<Need.TRANSACTION: 'transaction'>
"""

from __future__ import annotations

from enum import Enum

__all__ = [
    "Emotion",
    "IntensityLevel",
    "Intent",
    "Label",
    "NEED_BY_INTENT",
    "NEGATIVE_EMOTIONS",
    "Need",
    "Polarity",
    "Priority",
    "Script",
    "Step",
    "StrategyId",
    "intensity_level",
    "polarity_of",
]


class Label(str, Enum):
    """A closed vocabulary whose members are their own string ids."""

    def __str__(self) -> str:
        return str(self.value)

    @property
    def label_zh(self) -> str:
        """The Chinese display name from the taxonomy."""
        return _ZH.get(str(self.value), str(self.value))


class Emotion(Label):
    """The customer's dominant emotion in one message (8 labels)."""

    NEUTRAL = "neutral"
    SATISFIED = "satisfied"
    ANGRY = "angry"
    DISAPPOINTED = "disappointed"
    ANXIOUS = "anxious"
    IMPATIENT = "impatient"
    CONFUSED = "confused"
    HESITANT = "hesitant"


class Intent(Label):
    """What the customer wants (11 labels)."""

    PRODUCT_INFO = "product_info"
    PRICE_PROMOTION = "price_promotion"
    ORDER_STATUS = "order_status"
    RETURN_REFUND = "return_refund"
    PRODUCT_QUALITY = "product_quality"
    PAYMENT_INVOICE = "payment_invoice"
    ACCOUNT_TECH = "account_tech"
    USAGE_HELP = "usage_help"
    COMPLAINT = "complaint"
    PRAISE = "praise"
    OTHER = "other"


class Need(Label):
    """Business need category, fixed by the intent."""

    INFORMATION = "information"
    TRANSACTION = "transaction"
    SERVICE = "service"
    EXPERIENCE = "experience"
    NONE = "none"


class Polarity(Label):
    """Derived from the emotion: satisfied → positive, neutral → neutral, else negative."""

    POSITIVE = "positive"
    NEUTRAL = "neutral"
    NEGATIVE = "negative"


class IntensityLevel(Label):
    """``low`` (< 0.34), ``medium`` (< 0.67), ``high``."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class Script(Label):
    """The script the customer wrote in."""

    SIMPLIFIED = "simplified"
    TRADITIONAL = "traditional"


class StrategyId(Label):
    """The seven primary response strategies."""

    APOLOGIZE_COMPENSATE = "apologize_compensate"
    EXPLAIN_CLARIFY = "explain_clarify"
    ASSIST_GUIDE = "assist_guide"
    REASSURE = "reassure"
    INFORM = "inform"
    THANK = "thank"
    ESCALATE = "escalate"


class Step(Label):
    """Ordered steps of a strategy. ``clarify`` is ours: ask before guessing."""

    ACKNOWLEDGE_EMOTION = "acknowledge_emotion"
    APOLOGIZE = "apologize"
    EXPLAIN = "explain"
    GUIDE = "guide"
    OFFER_REMEDY = "offer_remedy"
    OFFER_COMPENSATION = "offer_compensation"
    REASSURE = "reassure"
    ANSWER = "answer"
    RECOMMEND = "recommend"
    EXPRESS_CARE = "express_care"
    FOLLOW_UP = "follow_up"
    HANDOFF = "handoff"
    CLARIFY = "clarify"


class Priority(Label):
    """How fast an agent should pick the message up."""

    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


_ZH = {
    "neutral": "平静", "satisfied": "满意", "angry": "愤怒", "disappointed": "失望",
    "anxious": "焦虑", "impatient": "不耐烦", "confused": "困惑", "hesitant": "犹豫",
    "product_info": "产品咨询", "price_promotion": "价格优惠", "order_status": "订单物流",
    "return_refund": "退换退款", "product_quality": "质量问题", "payment_invoice": "支付发票",
    "account_tech": "账号技术", "usage_help": "使用指导", "complaint": "投诉",
    "praise": "表扬感谢", "other": "其他",
    "information": "信息需求", "transaction": "交易需求", "service": "服务需求",
    "experience": "体验需求", "none": "无",
    "apologize_compensate": "道歉与补偿", "explain_clarify": "解释与澄清",
    "assist_guide": "协助与指导", "reassure": "安抚与保障", "inform": "准确解答",
    "thank": "感谢与维系", "escalate": "升级处理",
    "acknowledge_emotion": "确认并理解情绪", "express_care": "表达关心与同理",
    "follow_up": "跟进与反馈", "clarify": "澄清确认",
}

NEGATIVE_EMOTIONS: frozenset[Emotion] = frozenset(Emotion) - {Emotion.NEUTRAL, Emotion.SATISFIED}

#: Need of every taxonomy intent (taxonomy.md, "intent" table).
NEED_BY_INTENT: dict[str, Need] = {
    Intent.PRODUCT_INFO: Need.INFORMATION,
    Intent.PRICE_PROMOTION: Need.INFORMATION,
    Intent.ORDER_STATUS: Need.SERVICE,
    Intent.RETURN_REFUND: Need.TRANSACTION,
    Intent.PRODUCT_QUALITY: Need.SERVICE,
    Intent.PAYMENT_INVOICE: Need.TRANSACTION,
    Intent.ACCOUNT_TECH: Need.EXPERIENCE,
    Intent.USAGE_HELP: Need.SERVICE,
    Intent.COMPLAINT: Need.SERVICE,
    Intent.PRAISE: Need.NONE,
    Intent.OTHER: Need.NONE,
}

#: Level boundaries from the taxonomy ("low (< 0.34), medium (< 0.67), high").
LOW_BELOW = 0.34
MEDIUM_BELOW = 0.67


def polarity_of(emotion: str) -> Polarity:
    """Polarity derived from an emotion id.

    >>> polarity_of("satisfied"), polarity_of("neutral"), polarity_of("hesitant")
    (<Polarity.POSITIVE: 'positive'>, <Polarity.NEUTRAL: 'neutral'>, <Polarity.NEGATIVE: 'negative'>)
    """
    if emotion == Emotion.SATISFIED:
        return Polarity.POSITIVE
    if emotion == Emotion.NEUTRAL:
        return Polarity.NEUTRAL
    return Polarity.NEGATIVE


def intensity_level(intensity: float) -> IntensityLevel:
    """Bucket an intensity in [0, 1] into the taxonomy's three levels.

    >>> [intensity_level(x).value for x in (0.0, 0.34, 0.66, 0.67, 1.0)]
    ['low', 'medium', 'medium', 'high', 'high']
    """
    if intensity < LOW_BELOW:
        return IntensityLevel.LOW
    if intensity < MEDIUM_BELOW:
        return IntensityLevel.MEDIUM
    return IntensityLevel.HIGH
