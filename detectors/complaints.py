"""Reports that something of the brand's failed its customer, in English and German.

A complaint to a brand is mostly told as what happened, not how it felt: "40 minutes
on hold and counting", "the app keeps crashing since the update", "Warum ist meine
Bestellung noch nicht da?". Sentiment lexicons and models trained on general tweets read
such reports as neutral: of 4,507 tweets to US airlines that people read as negative
(Twitter US Airline Sentiment, its dev half), the shipped model flagged 49 % and the
lexicon 19 %, and nearly all it missed the lexicon scored 0 or above. For a tool that
watches a brand's talk turn against it, the report is the complaint.

`reports_failure` matches phrases of the common kinds (waiting, delays, cancellations,
things lost, broken or not working, charges and refunds, nobody answering, never
again, calls to stop and refusals to buy), written from what customers write to brands
in general, with no industry's nouns (no flights, trains, luggage or parcels).
Hand-written because no maintained library ships complaint phrases for English and
German: regular expressions, each searched only in comments holding one of its anchor
words and read under the floor, the result cached with the rest of a text's reading
(`Enricher`).
"""

from __future__ import annotations

import re
from typing import Final

from stormwatch.detectors.language import Tokens

__all__ = ["COMPLAINT_FLOOR", "COMPLAINT_POSITIVE_LIMIT", "index_phrases", "reports_failure"]

COMPLAINT_FLOOR: Final = 0.6
"""The least negativity of a comment that reports a failure: over the default
`negative_threshold` of 0.5, under a protest hashtag's `PROTEST_FLOOR` (a report is a
complaint; a call to boycott is more)."""

COMPLAINT_POSITIVE_LIMIT: Final = 0.5
"""A report whose lexicon compound is at least this positive is not floored: "delayed
two hours but the crew was amazing, thank you!" tells of a failure and thanks for how
it was handled."""

# (anchors, pattern): a comment is searched for the pattern only if one of the anchors is
# one of its words (`Tokens.words`, or a part of one glued by punctuation), and then for
# the patterns of that anchor alone: all of them as one regular expression cost
# 29 us a comment, several times the model's reading.
# Where a call on the brand starts: a clause's beginning, or an address ("@acme ").
_CALL_START: Final = r"(^|[.!?,:;]\s*|@\w+\s+)"

# Whose data, and what befell it: shared by the phrases of a leak told as a report and
# as a question.
_WHOSE_DATA: Final = (
    r"(my|our) (personal |private |card |credit card |payment |bank |login )?(data|info|"
    r"information|details|passwords?)"
)
_HARMED: Final = r"(leaked|stolen|hacked|exposed|compromised|sold)"
_WESSEN_DATEN: Final = (
    r"(meine|unsere) (persönlichen |privaten )?(daten|kundendaten|passwörter|passwort|"
    r"kontodaten|kreditkartendaten|zugangsdaten)"
)
_ENTWENDET: Final = r"(geleakt|gestohlen|geklaut|gehackt|veröffentlicht|verkauft|abgegriffen)"

_ENGLISH: Final = (
    # waiting, and nobody answering
    ("hold", r"\bon hold\b"),
    ("hung hang hangs hanging", r"\b(hung|hang|hangs|hanging) up on\b"),
    ("waiting", r"\b(still|been|keep|kept|am|are|we're|i'm) waiting\b"),
    (
        "waiting",
        r"\bwaiting (for|on) (a |an |my |our |the |your )?(call|callback|reply|response|answer|"
        r"refund|help|someone|update)\b",
    ),
    ("disconnected", r"\b(got|get|getting|was|were|been|keep being) disconnected\b"),
    ("complaint claim", r"\b(filed|file|filing|submitted|made) a (formal )?(complaint|claim)\b"),
    ("still", r"\bstill (no|not|nothing|haven't|hasn't|don't|doesn't|didn't|can't|cannot|won't)\b"),
    (
        "response responses reply replies answer answers help helps callback callbacks back "
        "update updates",
        r"\b(no|without any) (response|reply|answer|help|callback|call back|update)s?\b",
    ),
    (
        "nobody one noone",
        r"\b(nobody|no one|noone) (answers?|responds?|replies|helps?|cares?|called|is answering)\b",
    ),
    ("ignored ignoring", r"\b(ignored|ignoring) (me|us|my|our)\b"),
    ("counting later", r"\b(minutes|hours|days|weeks|months) (and counting|later and still)\b"),
    # late, cancelled, stuck
    ("delay delayed delays", r"(?<!without )(?<!no )\bdelay(ed|s)?\b"),
    (
        "canceled cancelled canceling cancelling cancelation cancellation",
        r"\bcancell?(ed|ing|ation)\b",
    ),
    ("stuck", r"\bstuck (on|in|at|with)\b"),
    ("stranded", r"\bstranded\b"),
    ("missed", r"\bmissed (my|our) \w+"),
    (
        "arrived arrive showed show came come received receive got get",
        r"\b(never|didn't|did not|hasn't|has not|haven't|have not) (arrived|arrive|showed up|"
        r"show up|came|come|received|receive|got|get) (it|my|our|the|a|any|back)\b",
    ),
    # lost, broken, not working
    ("lost losing misplaced", r"\b(lost|losing|misplaced) (my|our|his|her|their) \w+"),
    (
        "broke broken cracked damaged defective faulty",
        r"\b(broke|broken|cracked|damaged|defective|faulty)\b",
    ),
    ("working", r"\b(stopped|stops|stop|quit) working\b"),
    (
        "work works working",
        r"\b(doesn't|does not|didn't|did not|won't|will not|isn't|is not|not|never) "
        r"(work|works|working)\b",
    ),
    (
        "keep keeps",
        r"\bkeeps? (crashing|freezing|failing|breaking|dropping|cancell?ing|losing|charging)\b",
    ),
    (
        "crashed crashes crashing",
        r"\b(crashed|crashes|crashing) (again|every|all|constantly|since|after)\b",
    ),
    # down, an outage: a service that is not there ("the app is down again" read 0.43).
    # Not "calm down", "let me down", "prices are down": what is down is a service, or
    # it is down again, for a while or since a time.
    ("outage outages", r"(?<!no )(?<!without )\boutages?\b"),
    (
        "down offline",
        r"\b(app|site|website|server|servers|service|services|system|network|platform|login|"
        r"portal|checkout|internet|wifi|api|store) (is|are|was|were|has been|have been|went|"
        r"goes|keeps going|is still|are still) (down|offline)\b"
        r"|\b(down|offline) again\b"
        r"|\b(is|are|was|were|been|went|still) (down|offline) (for (hours|days|the whole|"
        r"the entire|over)|since|all (day|night|morning|weekend))\b",
    ),
    ("let lets", r"(?<!never )(?<!not )(?<!n't )(?<!dont )\blets? (me|us) down\b"),
    # locked out, an error page: "can't log in again", "error 503 everywhere"
    (
        "log sign login signin",
        r"\b(can't|cant|cannot|can not|couldn't|unable to|won't let me) (log|sign) ?in\b",
    ),
    ("error", r"\berror( code)? ?[45]\d\d\b"),
    # personal data leaked, stolen or sold, told by those whose data it was, and their
    # worried questions: "Is my data safe? Did you guys get hacked?" read 0.20. Not
    # "leaked" of a trailer or a release date: what leaked is someone's data.
    (
        "leaked leaking leak leaks stole stolen stealing sold selling exposed exposing",
        r"\b(leaked|leaking|leak|leaks|stole|stolen|stealing|sold|selling|exposed|exposing) "
        r"(all )?(my|our|your customers'?|customers'?|users'?|people's) (personal |private |"
        r"customer |card |credit card |payment |bank )?(data|info|information|details|"
        r"passwords?|emails?|addresses|phone numbers)\b",
    ),
    (
        "data info information details password passwords",
        rf"\b{_WHOSE_DATA}( \w+)? (was|were|got|has been|have been|is|are|just got) "
        rf"{_HARMED}\b"
        # asked: "was my payment info exposed?"
        rf"|\b(was|were|has|have) {_WHOSE_DATA}( \w+)? (been )?{_HARMED}\b"
        r"|\b(is|are) (my|our) (personal |private |card |credit card |payment |bank )?(data|"
        r"info|information|details|passwords?) (still |even )?(safe|secure)\b",
    ),
    (
        "hacked",
        r"\b(you|you guys|y'all|u) (got|been|were|was|have been) hacked\b"
        r"|\b(did|have|has) (you|you guys|y'all|u) (just )?(get|been|got) hacked\b",
    ),
    ("breach breaches", r"\bdata breach(es)?\b"),
    ("hacker hackers", r"\bhackers? (have|has|got|stole|took) (all )?(my|our)\b"),
    ("leak", r"\bleak (site|website|forum)s?\b"),
    ("hack breach leak", r"\bsince the (hack|breach|leak|data leak)\b"),
    (
        "reporting reported report",
        r"\b(reporting|reported|report) (\w+ ){0,3}?to the (data protection|privacy|consumer "
        r"protection) (authority|authorities|regulator|commissioner|office)\b",
    ),
    # money
    (
        "money back",
        r"\b(want|need|demand|give me|give us|i'd like|i would like|where is|where's) (my|our) "
        r"money back\b",
    ),
    ("charged billed", r"\b(charged|billed) (me |us )?(twice|double|again|extra)\b"),
    (
        "owe",
        r"\byou (still )?owe (me|us) (\$|€|£|\d|money|a refund|my|our|an? (apology|explanation|"
        r"answer))",
    ),
    ("overcharged overcharging", r"\bovercharg(ed|ing)\b"),
    ("less", r"\b(pay|paying|charge|charging|charges) (\w+ )?more for less\b"),
    (
        "refund",
        r"\b(no|want a|want my|need a|need my|still no|waiting for a|waiting for my) refund\b",
    ),
    (
        "refund reimburse compensate",
        r"\b(won't|will not|wouldn't|refused to|refuse to|didn't) (refund|reimburse|compensate)\b",
    ),
    # The airline set's dev half, read again on 2026-12-08 once mentions were no words
    # (patterns of how customers complain, no industry's things): a wait or an attempt
    # told with its length, what one cannot do, a refusal, questions of complaint,
    # demands, disappointment said outright.
    (
        "waited waiting hold line queue queued queuing",
        r"\b(waited|waiting|on hold|in line|in a queue|queued|queuing)\b(?! with\b)"
        r"[^.!?]{0,40}?\b(\d+(\.\d+)?|an?|one|two|three|four|five|six|seven|eight|nine|ten|"
        r"several|many|multiple|over an?|half an?)\+? ?(min|mins|minutes|hr|hrs|hour|hours|"
        r"day|days|week|weeks)\b",
    ),
    (
        "phone",
        r"\b(been|spent|spend|spending|still|sat|sitting|stuck) on the phone\b"
        r"(?! with (my|our|a|his|her|\w+'s)\b)[^.!?]{0,25}?\b(for )?(over |almost |nearly |"
        r"about )?(\d+(\.\d+)?|an?|one|two|three|four|five|six|seven|eight|nine|ten|several|"
        r"many|over an?|half an?)\+? ?(min|mins|minutes|hr|hrs|hour|hours)\b",
    ),
    (
        "waiting hold phone",
        r"\b(\d+|two|three|four|five|six|seven|eight|nine|ten|several|many) (min|mins|minutes|hr|"
        r"hrs|hours|days|weeks) (of )?(waiting )?(on hold|on the phone)\b",
    ),
    (
        "treat",
        r"\b(no|not the|not a|what a|hell of a) way to treat (your |loyal |paying |long-?time )?"
        r"(customers|passengers|clients|guests|people)\b"
        r"|(^|[.!?]\s*|@\w+\s+)way to treat (your )?(customers|passengers|clients|guests)\b"
        r"|\bis (this|that) how you treat (your )?(loyal |paying )?(customers|passengers|clients|"
        r"guests)\b",
    ),
    (
        "nothing",
        r"\b(have|has|i've|we've|still|i|we) (heard|received) nothing"
        r"(\s*($|[.!?,])| back\b| from (you|them|support|anyone)\b| since\b)",
    ),
    (
        "trying calling",
        r"\b(been|i've been|we've been|keep|kept) (trying|calling) to (reach|call|get|contact|"
        r"speak|talk)\b",
    ),
    (
        "through reach hold ahold",
        r"\b(can't|cant|cannot|couldn't|unable to) (get through to (you|anyone|someone|a person|"
        r"customer|support|your|the)|reach (you|anyone|a person|someone|customer service|"
        r"support)|get a hold of|get ahold of|get hold of) ?(you|anyone|someone|a person|"
        r"customer|support|your|the)?\b",
    ),
    # what the brand's thing or people will not let one do, or refuse: not "my kids won't
    # let me order elsewhere", "I refuse to replace my old blender"
    (
        "let",
        r"\b(it|app|site|website|system|page|account|you|they|this|checkout|portal|support|"
        r"agent)( still| just)? (won't|wont|wouldn't|will not|doesn't|does not) let (me|us) "
        r"(log|sign|book|change|cancel|pay|use|access|check|speak|talk|order|get)\b",
    ),
    (
        "help honor honour respond answer fix replace",
        r"\b(you|they|support|agent|agents|staff|store|company|manager|rep|he|she)( \w+)? "
        r"((won't|wouldn't|will not|refused to|refuse to|refuses to|unable to) (help|honor|"
        r"honour|respond|answer|fix|replace)\b|(can't|cannot|couldn't) (help|answer|fix|replace) "
        r"(me|us|my|our)\b)",
    ),
    ("help", r"\b(can|will|could) (no one|nobody|noone)( at [\w ]{1,20}?)? help (me|us)\b"),
    (
        "why",
        r"\bwhy (won't|wont|can't|cant|couldn't|didn't|doesn't|isn't|aren't|wasn't|weren't|"
        r"hasn't|haven't) (you|u|you guys|y'all|anyone|anybody|no ?one|nobody|my|our)\b",
    ),
    # "why did you book my hotel twice?!": asked of the brand, what it did is reproached
    # (the airline set's dev half: 12 of 13 such tweets read under 0.5 were negative)
    (
        "why",
        r"\bwhy (do|does|did|would) (you|u|y'all) (keep|always|never|still|constantly)\b"
        r"|\bwhy (did|do|does|would|has|have) (you|u|y'all)\b[^?!.]*(\?!|!\?|\?\?|!!)",
    ),
    (
        "going deal wrong",
        r"\bwhat('s| is) (going on with|the deal with|wrong with) (you|your|this)\b",
    ),
    ("hard difficult", r"\bhow (hard|difficult) (is it|can it be|could it be) to\b"),
    (
        "refund money reimbursement",
        r"\bhow (do|can|would|should) (i|we) (get|request|claim) (a |my |our |the )?(full )?"
        r"(refund|money back|reimbursement)\b[^.!?]{0,40}\b(recalled|cancell?ed|broken|damaged|"
        r"defective|faulty|never arrived|late|delayed|lost|missing)\b",
    ),
    (
        "where where's",
        r"\bwhere('s| is| are) (my|our) (\w+ )?(refund|money|response|reply|answer|update|"
        r"compensation|apology)\b",
    ),
    ("care", r"\b(does|do) (anyone|anybody|no ?one|you|u) (there |even |at \w+ )?(even )?care\b"),
    ("anyone anybody", r"\bis (anyone|anybody) (there|home|listening|even working)\b"),
    ("act shit stuff", r"\bget (your|its|their) (act|shit|stuff) together\b"),
    ("train", r"\btrain your (staff|employees|people|agents|team|reps)\b"),
    (
        "want demand expect",
        r"\b(i|we) (want|demand|expect) (a|my|our|an) (full )?(refund|explanation|apology|"
        r"compensation)\b",
    ),
    # disappointment said of oneself or the brand's doing, not "never been
    # disappointed", "you won't be disappointed", "Nightmare Before Christmas"
    (
        "disappointed disappointing frustrated frustrating",
        r"\b(i'm|im|i am|we're|we are|i was|we were|am|was|so|very|really|extremely|"
        r"incredibly|deeply|truly|beyond|utterly|pretty|quite|super|feel|feeling|left|"
        r"getting|how|is|this is|that is|that's|what a) (disappointed|disappointing|"
        r"frustrated|frustrating)\b",
    ),
    (
        "unacceptable incompetent incompetence unprofessional",
        r"(?<!not )(?<!n't )\b(unacceptable|incompetent|incompetence|unprofessional)\b",
    ),
    (
        "nightmare",
        r"\b(is|was|been|are|were|what|it's|this is|that's) (a |an |such a |an absolute |a "
        r"total |a complete |an actual |a living )?nightmare\b",
    ),
    ("fed", r"(?<!not )(?<!never )\bfed up\b"),
    (
        "sick tired",
        r"\b(i'm|im|i am|we're|we are|so|getting|really|honestly|just|am) (sick|tired) of "
        r"(this|it|you|your|waiting|being|the same)\b",
    ),
    ("happy impressed pleased", r"\bnot (happy|impressed|pleased) (with|at|about)\b"),
    (
        "waste",
        r"(?<!not )(?<!n't )\b(a |such a |complete |total )waste of (my |our )?(time|money)\b",
    ),
    # leaving
    (
        "never",
        r"\bnever (again|(flying|buying|ordering|shopping|using|booking|coming|going) "
        r"(with|from|at|to|back|them|you|this|here|again))\b",
    ),
    ("never", r"\bnever will i\b"),
    (
        "never not",
        r"\b(never( ever)?|not) (fly|book|buy|order|shop|use|stay|travel|spend|flying|booking|"
        r"spending|"
        r"buying|ordering|shopping|using|staying|traveling|travelling) "
        r"(?!(with |at |on |from |via )?(\w+ ){0,3}?(another|other|anything|anyone|anywhere|"
        r"something|else|cheap|light|regular|the stairs)\b)(with |at |on |from |via )?(\w+ ){0,3}"
        r"(ever )?again\b",
    ),
    (
        "done",
        r"\b(i'm|im|i am|we're|we are) (so |completely |officially )?done with ((this|your|the) "
        r"(company|brand|airline|bank|app|service|shop|store|people)|you|u|y'all|you guys|"
        r"them)\s*($|[.!?,])",
    ),
    (
        "anymore longer",
        r"\bi used to (defend|recommend|trust|support) [^.!?]{0,40}[.,!?]+\s*"
        r"(not anymore|no more|no longer|never again)\b",
    ),
    (
        "still",
        r"\bhow (is|are) (this|that|the|you|u|these|those)( \w+)? still (allowed to operate|"
        r"allowed to exist|operating)\b",
    ),
    # what fails, and again: "nothing loads at all", "third outage this week"
    (
        "nothing",
        r"\bnothing (loads|works|opens|syncs|happens|is working|is loading|will load|"
        r"will open)( at all| anymore| since \w+)?\s*($|[.!?,])",
    ),
    (
        "second third fourth fifth sixth 2nd 3rd 4th 5th nth umpteenth",
        r"\b(second|third|fourth|fifth|sixth|2nd|3rd|4th|5th|nth|umpteenth) (outage|crash|"
        r"failure|delay|breakdown|glitch|error|breach|leak|cancellation|cancelled flight|"
        r"missed delivery)s? (this (week|month|year)|today|in a row|in (two|three|\d+) (days|"
        r"weeks))\b",
    ),
    (
        "account subscription membership contract order card",
        r"\b(cancel|cancelling|canceling|closing|close|delete|deleting|deleted|deactivate|"
        r"deactivating|deactivated) my (account|subscription|membership|contract|order|card)\b",
    ),
    (
        "customer customers",
        r"\b(you('ve| have)?|u) (just )?lost (a|another|one|an? \w+) (loyal |long-?time |"
        r"paying )?customers?\b",
    ),
    (
        "competitor competitors",
        r"\b(switching|switched|moving|moved|going|went) (over )?to (a |another |your )?"
        r"competitors?\b",
    ),
    ("unsubscribed unfollowed unfollowing", r"\b(unsubscribed|unfollowed|unfollowing)\b"),
    (
        "service support experience company",
        r"\b(worst|terrible|horrible|awful|pathetic|useless|unacceptable) "
        r"(customer )?(service|support|experience|company)\b",
    ),
    # calls on the brand to stop, and refusals to buy until it does: a campaign's
    # template is polite by design ("Dear Acme, stop funding coal mines now. We will not
    # buy your products anymore!" read 0.23 with "Dear", 0.94 without). A refusal, not
    # loyalty ("we will never shop anywhere else"); a call, not a person's own habit
    # ("quit smoking last year"): the call starts a sentence, is addressed ("@acme",
    # "please", "dear acme,") or urged ("now", "!").
    (
        "buy buying shop shopping purchase purchasing order ordering",
        r"\b(we|i)('ll| will|'re| are|'m| am)? ?(not|never|no longer|won't|wont|refuse to|"
        r"not going to|never going to)( be)? (buy|buying|shop|shopping|purchase|purchasing|"
        r"order|ordering)\b(?! (anywhere|anything|anyone|elsewhere|any other)\b)",
    ),
    (
        "until",
        r"\b(not|never|no longer|won't|wont|refuse|boycott\w*)\b[^.!?]{0,80}"
        r"\buntil you (stop|change|end|do)\b",
    ),
    # a demand to take it back: "@pepsi pull this garbage now" read 0.20
    (
        "pull remove down delete",
        r"\b(pull|remove|delete|take down)\s+(this|that|the|your)\s+(\w+\s+)?(ad|ads|advert|"
        r"commercial|campaign|post|video|tweet|statement|garbage|trash|crap|shit|mess)\b"
        r"|\btake (this|that|the|your) (\w+ )?(ad|ads|advert|commercial|post|video|tweet) "
        r"down\b",
    ),
    (
        "stop end quit cease",
        rf"({_CALL_START}|\bplease\s+)(stop|end|quit|cease)\s+(\w+\s+){{0,2}}?\w+ing\b"
        r"[^.!?]*?(\bnow\b|\bimmediately\b|\btoday\b|!)"
        r"|(@\w+\s+|\bplease\s+|\b(dear|hey|hi) \w+,\s*)(stop|end|quit|cease)\s+(\w+\s+){0,2}?"
        r"\w+ing\b",
    ),
)

_GERMAN: Final = (
    ("warteschleife", r"\bwarteschleife\b"),
    (
        "noch seit",
        r"\b(immer noch|noch immer|seit \w+ (tagen|wochen|stunden|minuten)) "
        r"(nicht|kein|keine|keinen|nichts)\b",
    ),
    (
        "noch",
        r"\bnoch (nicht|immer nicht) (da|angekommen|geliefert|erstattet|bearbeitet|zurück)\b",
    ),
    (
        "keine ohne",
        r"\b(keine|ohne) (antwort|rückmeldung|reaktion|hilfe|erstattung|info|information)\b",
    ),
    ("niemand keiner", r"\b(niemand|keiner) (antwortet|meldet sich|hilft|geht ran|ruft zurück)\b"),
    # Not a delay said not to be: "ohne eine Sekunde Verspätung", "keine nennenswerten
    # Verspätungen" (GermEval 2017's dev split, 2026-12-08: praise read as complaints).
    (
        "verspätet verspätung verspätungen",
        r"(?<!ohne )(?<!keine )(?<!keinerlei )(?<!nicht )(?<!ohne eine sekunde )"
        r"(?<!ohne eine minute )(?<!ohne jede )(?<!nennenswerten )(?<!nennenswerte )"
        r"\bverspät(et|ung|ungen)\b",
    ),
    # zu spät, kommt nicht, liegengeblieben (GermEval 2017's dev split: reports of a
    # late or missing service the model read under 0.5). Not "nie (wieder) zu spät",
    # "nicht mehr zu spät", nor the writer late ("bin etwas zu spät dran"), and "kommt
    # nicht" only where the sentence ends: not "kommt nicht in Frage".
    (
        "spät",
        r"(?<!nie )(?<!nicht )(?<!kein )(?<!ohne )(?<!wieder )(?<!mehr )(?<!bin )(?<!etwas )"
        r"(?<!komme )(?<!kommen )\bzu spät\b(?! dran\b)",
    ),
    (
        "kommt kam fährt fuhr",
        r"\b(kommt|kam|fährt|fuhr) (einfach |heute |schon wieder |wieder |mal wieder |"
        r"immer noch |noch immer |halt )?ni+e*cht\s*([.!?…]|$)",
    ),
    (
        "geblieben liegengeblieben stehengeblieben",
        r"\b(liegen ?|stehen ?)geblieben\b",
    ),
    ("gestrandet", r"\bgestrandet\b"),
    # chaos, lahmgelegt, unzuverlässig, überfüllt, schlampig: not "kein Chaos", "nie
    # wieder Chaos"
    (
        "chaos",
        r"(?<!kein )(?<!ohne )(?<!nie wieder )(?<!nie mehr )(?<!mit dem )(?<!schluss mit )"
        r"\bchaos\b",
    ),
    ("lahmgelegt lahmlegt lahmgelegte lahm", r"\blahm ?(gelegt|legt|gelegte)\b"),
    ("unzuverlässig überfüllt überfüllte überfüllter", r"\b(unzuverlässig|überfüllt(e|er)?)\b"),
    (
        "schlampig schlampige schlampiger schlampiges schlampt geschlampt",
        r"\b(schlampig(e|er|es)?|schlampt|geschlampt)\b",
    ),
    ("aus", r"\b(fällt|fiel|fallen|fielen)( \w+){0,3} aus\b"),
    ("ausgefallen", r"\bausgefallen\b"),
    ("storniert", r"\bstorniert\b"),
    ("fest seit", r"\b(steck(e|en|t)|sitz(e|en|t)) (fest|seit)\b"),
    (
        "nicht nie",
        r"\b(funktioniert|funktionieren|geht|gehen|läuft|laufen) (bei euch[.…,!]*\s+)?"
        r"(schon wieder |immer noch |wieder |noch immer |seit \w+ \w+ )?"
        r"(nicht|gar nicht|nie)\b",
    ),
    ("kaputt defekt beschädigt", r"\b(kaputt|defekt|beschädigt)\b"),
    ("ab", r"\bstürzt (ständig |dauernd |schon wieder |wieder |immer )?ab\b"),
    (
        "angekommen geliefert erstattet zurückgerufen",
        r"\b(nie|nicht) (angekommen|geliefert|erstattet|zurückgerufen)\b",
    ),
    ("verloren verschlampt", r"\b(verloren|verschlampt)\b"),
    # eine Störung, kein Netz: der Dienst ist nicht da (nicht "Entschuldigen Sie die
    # Störung")
    (
        "störung störungen",
        r"\b(schon wieder|wieder|immer noch|noch immer|seit \w+ \w+|massive|große|totale|"
        r"erneute|nächste) störung(en)?\b|\bstörung(en)? (seit|schon wieder|immer noch)\b",
    ),
    (
        "netz internet empfang wlan verbindung",
        r"\b(kein|keinen|keine|null) (netz|internet|empfang|wlan|verbindung)\b",
    ),
    # ausgesperrt, eine Fehlerseite: "kann mich nicht einloggen", "überall Fehler 503"
    (
        "einloggen anmelden",
        r"\b(kann|können|konnte|konnten) (mich|uns) (\w+ ){0,2}?(nicht|nie) (mehr )?"
        r"(einloggen|anmelden)\b",
    ),
    ("fehler fehlercode", r"\bfehler(code)? ?[45]\d\d\b"),
    # Daten geleakt, gestohlen, verkauft, und die besorgte Frage danach
    (
        "daten kundendaten passwörter passwort kontodaten kreditkartendaten zugangsdaten",
        rf"\b{_WESSEN_DATEN}( \w+){{0,3}} (wurden|sind|wurde|ist) "
        rf"((?!nie\b|nicht\b|niemals\b)\w+ ){{0,2}}?{_ENTWENDET}\b"
        # where the clause ends: "dass meine Daten bei euch geleakt wurden"
        rf"|\b{_WESSEN_DATEN}( \w+){{0,3}} {_ENTWENDET} (wurden|worden|wurde|sind|ist)\b"
        r"|\bsind (meine|unsere) (\w+ )?(daten|kundendaten|passwörter|kontodaten|"
        r"kreditkartendaten|zugangsdaten) (noch |jetzt |überhaupt )?sicher\b",
    ),
    (
        "geleakt gestohlen geklaut verkauft weitergegeben veröffentlicht",
        r"\b(ihr habt|habt ihr|sie haben|haben sie) (\w+ ){0,2}?(meine|unsere) (\w+ )?"
        r"(daten|kundendaten|passwörter|kontodaten|kreditkartendaten|zugangsdaten)( \w+){0,3} "
        r"(geleakt|gestohlen|geklaut|verkauft|weitergegeben|veröffentlicht)\b",
    ),
    ("gehackt", r"\b(wurdet|seid|wurden|sind) (ihr|sie) (\w+ )?gehackt\b"),
    ("hacker", r"\bhacker (haben|hatten) (jetzt )?(meine|unsere)\b"),
    (
        "leak leakseite hack datenleck",
        r"\bleak-? ?seite\b|\bseit dem (hack|leak|datenleck)\b",
    ),
    (
        "datenschutzbeauftragten datenschutzbehörde verbraucherzentrale",
        r"\b(beim|bei dem|beim landes|bei der) (datenschutzbeauftragten|datenschutzbehörde|"
        r"verbraucherzentrale)\b",
    ),
    ("datenleck datenlecks datenpanne datenskandal", r"\bdaten(leck|lecks|panne|skandal)\b"),
    (
        "down offline",
        r"\b(ist|sind|war|waren) (schon wieder |wieder |immer noch |seit \w+ \w+ )?"
        r"(down|offline)\b|\b(schon wieder|wieder mal|mal wieder) (down|offline)\b"
        # where the clause ends: "weil euer Server down ist"
        r"|\b(down|offline) (ist|sind|war|waren)\s*([.!?…,]|$)",
    ),
    # an outage: "dritter Ausfall diese Woche", "Stromausfall seit heute morgen"
    (
        "ausfall ausfälle totalausfall stromausfall netzausfall serverausfall systemausfall "
        "zugausfall",
        r"\b(total|strom|netz|server|system|zug)?ausf(a|ä)lle?\b",
    ),
    (
        "geld",
        r"\b(will|möchte|wollen|fordere|fordern|hätte gern|hätten gern) (\w+ )?(mein|unser) "
        r"geld zurück\b"
        r"|\bwie (bekomm|bekomme|krieg|kriege|kriegen|bekommen) (ich|wir) (\w+ )?(mein|unser) geld "
        r"[^.!?]{0,40}\b(zurückgerufen|zurückgerufene|zurückgerufenen|defekt|defekte|defekten|"
        r"kaputt|kaputte|kaputten|storniert|stornierte|stornierten|nie angekommen)\b"
        r"|\bwie (bekomm|bekomme|krieg|kriege|kriegen|bekommen) (ich|wir) (\w+ )?(mein|unser) geld "
        r"für (das|die|den|mein|meine|meinen) (zurückgerufen|defekt|kaputt|storniert)\w* ",
    ),
    ("abgebucht berechnet bezahlt", r"\b(doppelt|zweimal|zu viel) (abgebucht|berechnet|bezahlt)\b"),
    ("weniger", r"\bmehr (zahlen|bezahlen) für weniger\b"),
    # was weg ist, was nicht mehr geht, und wiederholt: "meine Einstellungen sind weg",
    # "jetzt geht gar nix mehr", "dritte Störung diese Woche"
    (
        "weg verschwunden futsch",
        r"\b(mein|meine|unser|unsere|alle|all meine|alle meine)( \w+)? (daten|fotos|bilder|"
        r"einstellungen|dateien|nachrichten|chats|punkte|guthaben|geld|kontakte|playlists?|"
        r"favoriten|konto|account|profil|spielstand|fortschritt|mails|e-mails|emails|backups?|"
        r"speicherstände) (ist|sind|war|waren) (?!(schon|bereits) )(\w+ )?"
        r"(weg|verschwunden|futsch|gelöscht)\b",
    ),
    (
        "mehr",
        r"\b(geht|funktioniert|lädt|läuft) (jetzt |hier |da |bei mir )?(gar |überhaupt |echt )?"
        r"(nichts|nix) mehr\b(?! ohne\b)|(?<!plus, )\bnichts geht mehr\b(?! ohne\b)",
    ),
    (
        "zweite dritte vierte fünfte sechste zigste",
        r"\b(zweite|dritte|vierte|fünfte|sechste|x-te|zigste)[nrsm]? (störung|ausfall|panne|"
        r"verspätung|absturz|datenpanne|datenleck|fehler|lieferverzögerung) (diese[nrs]? (woche|"
        r"monat|jahr)|heute|in folge|innerhalb)\b",
    ),
    (
        "existieren",
        r"\bwie kann (so eine|eine solche|diese|so ne) (firma|bank|marke|unternehmen|laden) "
        r"(noch |überhaupt )?(existieren|bestehen|überleben)\b",
    ),
    (
        "schuldet schulden",
        r"\b(ihr schuldet|sie schulden|du schuldest) (mir|uns) (noch )?(\d|geld|mein|unser|"
        r"eine (antwort|erklärung|entschuldigung|erstattung))",
    ),
    ("wieder", r"\bnie wieder\b"),
    ("kündige kündigen kündigung", r"\b(kündige|kündigen|kündigung)\b"),
    (
        "konto account abo",
        r"\b(löscht|lösche|löschen sie) (sofort |jetzt )?mein (konto|account|abo)\b",
    ),
    ("konkurrenz", r"\b(wechsle|wechseln|wechsel|gehe|gehen) (jetzt )?zur konkurrenz\b"),
    (
        "verteidigt",
        r"\b(immer|lange|oft|jahrelang) verteidigt[.,!]*\s*(jetzt|ab jetzt|ab heute|seit heute)"
        r" nicht mehr\b",
    ),
    (
        "wechsle wechseln",
        r"\b(wechsle|wechseln)( ich| wir)? (jetzt |heute |sofort |heute noch |noch heute )?"
        r"(den|meinen|unseren) (anbieter|provider|versorger|stromanbieter|mobilfunkanbieter)\b"
        r"(?! (zu|auf) )",
    ),
    (
        "verloren",
        r"\b(ihr habt|sie haben) (gerade |soeben |heute )?(eine|einen) ((treue|treuen|"
        r"langjährige|langjährigen|zahlende|zahlenden) )?(kundin|kunden) verloren\b",
    ),
    ("entfolge entfolgt entfolgen", r"\b(entfolge|entfolgt|entfolgen)\b"),
    (
        "post beitrag tweet video spot werbespot werbung",
        r"\b(löscht|nehmt) (sofort |endlich |bitte )?(diesen|den|das|dieses|euren|eure|die|"
        r"diese) (\w+ )?(post|beitrag|tweet|video|spot|werbespot|werbung)\b",
    ),
    (
        "kundenservice service support kundendienst",
        r"\b(schlechtester?|miserabler?|unterirdischer?|katastrophaler?) "
        r"(kundenservice|service|support|kundendienst)\b",
    ),
    # calls on the brand to stop, and refusals to buy ("Hört auf mit Tierversuchen,
    # sofort! Wir kaufen nichts mehr von euch." read 0.22): a call starts a sentence or
    # is addressed, not "Ich hör auf zu rauchen", "Zum Schluss mit Freunden ...", "Der
    # Bus beendet die Fahrt"
    ("auf", _CALL_START + r"hör(t)? (endlich |sofort |bitte |jetzt |doch )?auf\b"),
    ("schluss", _CALL_START + r"schluss mit\b"),
    (
        "mehr wieder",
        r"\b(wir|ich) (kaufen|kaufe|bestellen|bestelle) ([\w-]+ ){0,3}?(nichts|nie|keine|keinen|"
        r"gar nichts|nicht) (mehr|wieder)\b(?! als\b)",
    ),
    ("mehr", r"\bkeinen? (cent|euro) mehr\b"),
    (
        "stoppt beendet",
        _CALL_START + r"(stoppt|beendet) (endlich |sofort |jetzt )?(die|den|das|eure|"
        r"euren|diese|diesen|dieses)\b",
    ),
)


def index_phrases(
    entries: tuple[tuple[str, str], ...],
) -> dict[str, tuple[re.Pattern[str], ...]]:
    """Each anchor word and the patterns it may start a search for (`entries`: anchor
    words, space-separated, and a pattern each)."""
    index: dict[str, list[re.Pattern[str]]] = {}
    for words, pattern in entries:
        compiled = re.compile(pattern)
        for word in words.split():
            index.setdefault(word, []).append(compiled)
    return {word: tuple(patterns) for word, patterns in index.items()}


_PATTERNS: Final = {"en": index_phrases(_ENGLISH), "de": index_phrases(_GERMAN)}
_GLUE: Final = re.compile(r"[^\w']+")


def reports_failure(tokens: Tokens, lang: str) -> bool:
    """Whether the comment reports a failure in `lang` ("en" or "de"; others: False).

    >>> reports_failure(Tokens("@acme 40 minutes on hold and counting"), "en")
    True
    >>> reports_failure(Tokens("Warum ist meine Bestellung noch nicht da?"), "de")
    True
    >>> reports_failure(Tokens("Picked up an air fryer on the way to work"), "en")
    False
    """
    index = _PATTERNS.get(lang)
    if index is None:
        return False
    text = None
    for word in tokens.words:
        patterns = index.get(word)
        if patterns is None:
            if word.isalpha():
                continue
            # Words glued by punctuation ("w/delays", "nicht,deshalb"): their parts.
            patterns = tuple(p for part in _GLUE.split(word) for p in index.get(part, ()))
            if not patterns:
                continue
        if text is None:
            text = tokens.lower.replace("\u2019", "'")
        for pattern in patterns:
            if pattern.search(text) is not None:
                return True
    return False
