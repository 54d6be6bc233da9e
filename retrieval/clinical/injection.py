"""Text inside a note that addresses a language model rather than a clinician (OWASP LLM01).

Clinicians do not write "ignore all previous instructions", "SYSTEM:", "<source id=...>" or a
JSON object into a chart. Such a line is never evidence for a claim and the extractive backend
never quotes it. The patterns are deliberately about the form of the text (who it speaks to,
markup, structured data), not about clinical words.
"""

from __future__ import annotations

import re

_PATTERNS = (
    # instructions to a model
    r"\b(?:ignore|disregard|forget|override|overrule|bypass)\b[^.]{0,40}\b(?:instructions?|rules?|prompts?|above|"
    r"previous|prior|system|guidelines?|summary|summaries|output|answer|response|record|chart|notes?)\b",
    r"\b(?:system|developer|assistant|admin|hidden) (?:message|prompt|note|instruction|mode|override)s?\b",
    r"\b(?:begin|end|start) (?:of )?(?:system|developer|hidden|new) (?:prompt|message|instructions?)\b",
    r"#{2,}\s*(?:instruction|system|task|prompt|response|assistant|user)s?\b",
    r"\bai (?:assistant|model|system|summari[sz]er)\b|\b(?:dear|hey|hello|attention) (?:ai|assistant|model|bot)\b",
    r"\b(?:you are|you're|act as|pretend (?:to be|you are)|as an? (?:ai|language model|assistant))\b[^.]{0,40}"
    r"\b(?:model|assistant|ai|chatbot|gpt|llm|summari[sz]er)\b",
    r"\b(?:new|updated|hidden|secret|real) (?:instructions?|rules?|task|prompt)\b",
    r"\b(?:language model|llm|chatgpt|gpt-?\d|the assistant|the ai|summari[sz]er|summary model)\b",
    r"\b(?:in|for|into) your (?:summary|answer|output|response|reply)\b|\bwhen (?:you )?summari[sz](?:e|ing)\b|"
    r"\boutput only\b|\b(?:respond|reply|answer) only with\b",
    r"(?-i:(?:^|[.!?]\s+)(?:Please\s+)?(?:State|Say|Write|Report|Claim|Assert) that)\b",  # an imperative
    r"\bdo not (?:mention|cite)\b",
    # role labels and chat markup (a label that then speaks to the reader: "SYSTEM: you are ...")
    r"(?:^|\n)\s*(?:system|assistant|user|developer|tool)\s*:\s*(?:you\b|ignore\b|disregard\b|forget\b|"
    r"state\b|say\b|summar[iy]|please\b|new\b|respond\b|output\b|the patient (?:has|is|does)\b|[{\"<])",
    r"(?-i:(?:^|\n)\s*(?:system|assistant|user|developer|model|ai)\s*:)",  # a lower-case role label
    r"<\|?(?:im_start|im_end|system|assistant|user|endoftext)\|?>",
    r"<!--",  # a markup comment: nobody writes one into a chart by hand ("-->" is an arrow in notes)
    r"\bcite (?:this|these|the following|it)\b|\bas proof that\b|\bmark (?:this|it) as (?:verified|supported)\b",
    r"\[/?(?:inst|sys)\]|<<sys>>",
    # source-tag look-alikes and other markup
    r"</?\s*(?:source|sources|document|context|instructions?|system|prompt|claims?)\b[^>]*>",
    r"\[S\d{1,4}\]",
    r"</?[a-z][a-z0-9]*(?:\s+[a-z-]+=\"[^\"]*\")*\s*/?>",
    # structured data: JSON objects or arrays with quoted keys
    r"[{\[]\s*\"[^\"]{1,40}\"\s*:",
    r"\"(?:claims|source_id|quote|sections|role|content)\"\s*:",
    # an answer's fields written into a note: claim: "...", source: S1
    r"\b(?:claims?|source_?ids?|quotes?|citations?|verdict)\s*[:=]\s*[\"'\[{]",
    r"\bsource(?:_id)?\s*[:=]\s*\"?S\d{1,4}\b",
)
_MODEL_ADDRESSED = re.compile("|".join(f"(?:{p})" for p in _PATTERNS), re.I)


def model_addressed(text: str) -> str:
    """The fragment that addresses a model, or '' if the text reads as clinical writing."""
    match = _MODEL_ADDRESSED.search(text)
    return match.group(0).strip()[:40] if match else ""
