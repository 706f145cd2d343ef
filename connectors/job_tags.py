"""The job tag: how a Syncro line item (or a billing draft's line description) names the
Synchroteam job it bills, ``[ST-JOB 10023]``.

Every draft the portal makes from a job ends its line description with the job's tag
(`dispatch.services.draft_from_job`); a person may also type one into a line item in Syncro.
Reconciliation needs "which jobs does some line item name?" at 100 000 line items, so the tags a
text carries are extracted once, when the row is written (the Syncro mapping, a draft's
``save``), into two columns the unbilled query looks up by index:

* ``job_tag``: the first tag written in the text ("" when it names none);
* ``job_tags_more``: any further ones, one per line ("" for nearly every row).

A tag is ``"[ST-JOB "`` + the job's number (its ``vendor_id`` when it has none) + ``"]"``. The
number is at most 60 characters (Synchroteam's ``num``, `SynchroteamJob.num`) and may itself hold
a ``]``, so a later ``]`` within reach of an opening ``"[ST-JOB "`` ends a candidate too, as long
as the number so far is one word (`tags_in`): a text that contains a job's tag yields that tag
(the rule the unbilled list used when it tested every job against every text) except for a
number holding both a ``]`` and a space before it, or a line break.
"""

from __future__ import annotations

TAG_OPEN = "[ST-JOB "
#: the longest tag: the opening, a 60-character job number, the closing bracket
MAX_TAG = len(TAG_OPEN) + 60 + 1


def job_tag_for(num: str, vendor_id: int | str) -> str:
    """The tag of the job numbered `num` (Synchroteam ``num``), or `vendor_id` when ``num`` is
    empty: ``job_tag_for("10023", 7) == "[ST-JOB 10023]"``."""
    return f"{TAG_OPEN}{num or vendor_id}]"


def tags_in(text: str) -> list[str]:
    """The candidate tags written in `text`, in order of appearance, each once.

    From every ``"[ST-JOB "`` (overlapping ones too): to the next ``"]"``, and on to each later
    ``"]"`` at most `MAX_TAG` characters from the opening while the number so far holds no
    whitespace (``"[ST-JOB A]7]"`` yields ``"[ST-JOB A]"`` and ``"[ST-JOB A]7]"``; ``"[ST-JOB 1]
    and [ST-JOB 2]"`` yields two tags, not a third spanning both).
    """
    found: dict[str, None] = {}
    at = text.find(TAG_OPEN)
    while at != -1:
        end = text.find("]", at + len(TAG_OPEN))
        if end != -1 and end - at < MAX_TAG and "\n" not in text[at:end]:
            found.setdefault(text[at : end + 1])
            while True:
                end = text.find("]", end + 1)
                number = text[at + len(TAG_OPEN) : end]
                if end == -1 or end - at >= MAX_TAG or any(c.isspace() for c in number):
                    break
                found.setdefault(text[at : end + 1])
        at = text.find(TAG_OPEN, at + 1)
    return list(found)


def tag_columns(*texts: str) -> dict[str, str]:
    """``{"job_tag": first tag, "job_tags_more": further tags one per line}`` of `texts` joined
    by a space (both "" when they name no job)."""
    tags = tags_in(" ".join(t or "" for t in texts))
    return {"job_tag": tags[0] if tags else "", "job_tags_more": "\n".join(tags[1:])}
