"""Emergency situations in what callers say, in English and Spanish: a fire, a crime in progress, someone hurt.

Pure: no Flask, Twilio or database. A single word decides nothing ("fire hydrant", "help me with a pothole"):
each rule is a phrase about a situation, and a match counts only if it survives these checks:

- look-alikes are blanked out first ("fire lane", "boca de incendios", "snow emergency");
- a negation or an "if" just before it ("no one is hurt", "no hay heridos") drops it;
- a rule's `unless` words in the same part of the sentence drop it ("smoke" from a grill, an alarm's battery);
- a past or habitual time anywhere in the sentence ("last week", "ayer", "every night") drops it, unless the
  match's own clause says it is happening now ("they're still in the house", "todavía están adentro");
- rules marked `ongoing` describe something that is over once told in the past ("there was a fire", "hubo un
  incendio", "they fixed the gas leak"); injuries are not ("le dispararon a un muchacho" is now).

Every rule runs on every utterance, whatever the call's language: callers switch languages, and the greeting
has no language yet. Tense is written into the patterns on purpose, so there is no stemmer: a stemmer would
fold "están robando" (in progress) and "robaron" (told afterwards) into one stem, the very difference that
matters here.

The patterns live in this module, not in config/: they are the detector's logic and change together with its
tests (tests/core/test_emergency.py and the corpora tests/data/emergency_*.tsv), not a per-deployment setting.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .words import normalise


def _rx(pattern: str) -> re.Pattern[str]:
    """Compile a pattern over prepared words, whole words only."""
    return re.compile(rf"\b(?:{pattern})\b")


@dataclass(frozen=True)
class Rule:
    """One way of saying an emergency situation."""

    kind: str
    pattern: re.Pattern[str]
    ongoing: bool = False  # over once told in the past ("there was a fire")
    unless: re.Pattern[str] | None = None  # in the same piece of the sentence, these words make it harmless


def rule(kind: str, *patterns: str, ongoing: bool = False, unless: str | None = None) -> Rule:
    """A Rule matching any of `patterns`."""
    return Rule(kind, _rx("|".join(patterns)), ongoing, _rx(unless) if unless else None)


@dataclass(frozen=True)
class Finding:
    """An emergency heard: what kind, and the words that said it."""

    kind: str
    said: str


# ---- vocabulary the rules share -------------------------------------------------------------------------

_RELATIVES_EN = ("husband|wife|son|daughter|mom|mother|dad|father|baby|child|kid|neighbor|neighbour|friend|"
                 "brother|sister|grandma|grandmother|grandpa|grandfather|roommate|boyfriend|girlfriend|partner|"
                 "uncle|aunt|cousin|nephew|niece|toddler|coworker")
_PEOPLE_EN = "man|woman|guy|lady|kid|child|boy|girl|baby|person|teenager|driver|cyclist|biker|pedestrian|rider"
# Someone a caller worries about. Landlords are left out on purpose: "my landlord is not responding".
_PERSON_EN = (f"(?:he|she|they|i|we|someone|somebody|people|"
              f"(?:a|the|this|that|an old|an elderly|a homeless|a young|a little) (?:{_PEOPLE_EN})|"
              f"(?:my|our|his|her|their|the) (?:elderly )?(?:{_RELATIVES_EN}))")
_VICTIM_EN = (f"(?:him|her|them|me|us|someone|somebody|each other|people|"
              f"(?:a|the|this|that|an old|a homeless) (?:{_PEOPLE_EN})|(?:my|his|her|their) (?:{_RELATIVES_EN}))")
_HOME_EN = ("house|home|kitchen|building|apartment|car|basement|garage|room|bedroom|attic|unit|store|shop|"
            "restaurant|school|church|porch|hallway|stairwell|truck|van|bus|dumpster")

_RELATIVES_ES = ("esposo|esposa|marido|mujer|hijo|hija|mama|madre|papa|padre|bebe|abuelo|abuela|hermano|"
                 "hermana|vecino|vecina|amigo|amiga|novio|novia|pareja|tio|tia|primo|prima|nieto|nieta")
_PEOPLE_ES = ("hombre|senor|muchacho|joven|nino|chico|tipo|bebe|anciano|motociclista|ciclista|chofer|"
              "conductor|mujer|senora|muchacha|nina|chica|anciana|persona")
_PERSON_ES = (f"(?:el|ella|alguien|(?:un|una|el|la|ese|esa|este|esta) (?:{_PEOPLE_ES})|"
              f"(?:mi|su|nuestro|nuestra) (?:{_RELATIVES_ES}))")
_HOME_ES = "casa|apartamento|edificio|garaje|sotano|atico|cuarto|cocina|tienda|carro|patio|pasillo|escuela"

_WATER = "river|pond|lake|pool|reservoir|canal|water|ice|rio|lago|estanque|piscina|agua|hielo"
_ROAD = ("street|road|highway|traffic|avenue|parking lot|route|interstate|boulevard|intersection|"
         "calle|avenida|carretera|autopista|trafico|ruta")
# A few words between two parts of a rule, never across a negation or a conjunction ("pole but it's not sparking").
_GAP = r"(?: (?!(?:not|no|never|but|and|y|pero|ni|nor|sin)\b)\w+){0,5}"

# `unless` lists, shared by both languages' rules.
_NOT_SMOKE_OF_A_FIRE = ("barbecue|bbq|grill|grills|grilling|chimney|fireplace|exhaust|tailpipe|cigarettes?|cigars?|"
                        "smoking|smokes|weed|marijuana|vape|vaping|firepit|fire pit|leaves|incense|factory|"
                        "parrilla|chimenea|fogata|asador|barbacoa|mofle|cigarros?|cigarrillos?|fuma|fumando|"
                        "marihuana|hojas|fabrica")
_ALARM_BATTERY = "battery|batteries|chirp|chirps|chirping|bateria|baterias|pila|pilas"
_ANIMAL = ("dog|dogs|cat|cats|deer|animal|animals|bird|squirrel|raccoon|horse|pet|puppy|kitten|"
           "perro|perros|gato|gatos|venado|animales|pajaro|ardilla|mapache|caballo|mascota")
_FIGURATIVE = ("tickets?|fees|taxes|prices|bills?|city|government|landlord|company|bank|"
               "multas?|impuestos|cobros|cuentas|facturas|tarifas|precios|ciudad|gobierno|banco")

# ---- look-alikes, blanked out before any rule runs -------------------------------------------------------

LOOK_ALIKES = _rx("|".join((
    # English
    "fire (?:hydrants?|lanes?|escapes?|department|departments|dept|marshals?|station|stations|house|trucks?|"
    "inspections?|inspectors?|pits?|codes?|hazards?|traps?|extinguishers?|drills?|exits?|doors?|permits?|chief|"
    "fighters?|works|alarm inspection|safety)",
    "fireworks?|firefighters?|firehouse|ceasefire|bonfire permit|(?:got|was|been|get) fired",
    "gas (?:stations?|prices?|bills?|company|companies|meters? reading|cans?|grills?|powered|mowers?|"
    "leaf blowers?|line work)|out of gas|gasoline",
    "(?:water|nail|glue|staple|toy|spray|heat|caulk|paint|squirt|nerf|radar|speed) guns?|"
    "gun (?:violence|shops?|stores?|range|ranges|show|shows|buyback|safety)",
    "flu shots?|shot clock|take a shot|took a shot|screen ?shots?|photo shoots?|shot down|bullet holes|"
    "shooting (?:a |the )?(?:movie|film|video|photos?|pictures?|hoops)|shooting off",
    "blood (?:drive|drives|pressure|tests?|bank|sugar)",
    "heart of (?:the )?(?:city|downtown|town|neighborhood)|dying to|killing me|weed killer",
    "(?:snow|weather|housing|emergency) emergency|non emergency|"
    "emergency (?:room|rooms|contacts?|exits?|closures?|alerts?|management|brakes?|lights?|kits?|plans?|"
    "shelters?|housing|repairs?|services|numbers?|line|fund|declaration|parking|vehicles?|doors?|generators?|"
    "notifications?|meetings?|orders?|bans?|routes?)",
    "choking hazards?|smoke (?:detectors?|alarms?) (?:batter(?:y|ies)|for|program)|free smoke detectors?|"
    "smoke shops?|smoke breaks?",
    "(?:phone|telephone|internet|cable|cable tv|fiber|comcast|xfinity) (?:lines?|wires?|cables?)",
    # Spanish (accents folded)
    "bocas? de incendios?|hidrantes?|(?:salidas?|escaleras?|peligro|riesgo) de incendios?|"
    "(?:carril|estacion|inspeccion|camion|departamento|cuerpo) de bomberos|fuegos artificiales|extintor(?:es)?",
    "gasolineras?|(?:estacion|factura|cuenta|compania|recibo|tuberia) del? gas|de gasolina",
    "pistolas? de (?:agua|clavos|silicona|pegamento|juguete|pintura)|violencia armada",
    "(?:salas?|salidas?|puertas?|contactos?|cierre|luces|reparacion|numero|linea|alertas?|refugio|plan) "
    "de emergencias?|emergencias? de (?:nieve|clima)|no es de emergencia",
    "(?:donacion|presion|analisis|examen|banco) de sangre",
    "me muero de (?:ganas|hambre|frio|calor|risa|sueno|verguenza|aburrimiento)|"
    "(?:detector|detectores|alarma|alarmas) de humo (?:gratis|para)",
    "cables? del? (?:internet|telefono|television|tv|cable)|primeros auxilios|perpetuo socorro",
    "(?:me|nos) dispararon con la camara|(?:llen[oa]s?|marcas|agujeros|hoyos) de (?:balazos|balas)",
)))

# ---- the rules, English ------------------------------------------------------------------------------------

RULES_EN = (
    # fire and smoke
    rule("fire", "on fire|(?:caught|catching|catches|catch) (?:on )?fire|set (?:on )?fire|flames",
         "fire (?:is |s )?(?:spreading|growing|getting bigger)",
         "there (?:is|s|are) (?:a |an )?(?:big |huge |small |little |house |kitchen |car |grease |electrical |"
         "brush )?fires?",
         rf"fires? (?:in|at|inside|on) (?:the |my |our |a |an |his |her |their |this |that )?(?:\w+ )?"
         f"(?:{_HOME_EN}|yard|backyard|woods|field|lot|park|floor)",
         "(?:house|home|kitchen|building|apartment|car|garage|dumpster|grease|brush|electrical|chimney|trash|"
         "basement|attic) fires?",
         f"(?:{_HOME_EN}|roof|something|everything|it){_GAP} (?:is |s |are )?burning|burning (?:smell|odor)|"
         "smells? (?:like )?(?:something )?burning|explosion", ongoing=True),
    rule("smoke", "smoke (?:is |s )?(?:coming|pouring|billowing|rising|filling|everywhere|spreading)",
         "(?:lots of|lot of|thick|black|heavy|so much|full of|filling with|filled with|filling up with|see|seeing|"
         "smell|smells|smelling|smell of|smells like|there is|there s) smoke",
         f"smoke (?:in|inside) (?:the |my |our )?(?:{_HOME_EN})", ongoing=True, unless=_NOT_SMOKE_OF_A_FIRE),
    rule("alarm", "(?:smoke|fire|carbon monoxide|co) (?:alarms?|detectors?|monitors?) (?:is |s |are |keeps |keep |"
         "just )?(?:going off|sounding|went off|ringing|blaring|beeping)", "carbon monoxide (?:poisoning|leak)",
         unless=_ALARM_BATTERY),
    rule("gas", "smell(?:s|ing)? (?:of |like )?(?:natural )?gas|(?:odor|odour|smell) of gas|leaking gas",
         "gas (?:smell|smells|odor|odour|leak|leaking|is leaking|s leaking)",
         "gas (?:is |s )?(?:coming out|escaping|hissing)",
         "smells? like rotten eggs? (?:in|inside) (?:my|the|our) (?:house|home|apartment|kitchen|basement)",
         ongoing=True, unless="fixed|repaired"),
    # break-ins and crime in progress
    rule("break_in", "breaking in(?:to)?|(?:trying|tried|try) to (?:break|get|force) (?:in|into|inside)",
         "(?:break in|burglary|robbery|home invasion) (?:in progress|happening|going on)|home invasion|"
         "carjack(?:ing|ed)|intruders?",
         f"kick(?:ing)? (?:in|down) (?:my|the|our|a|his|her){_GAP} (?:door|window)",
         r"(?:climbing|crawling|coming|getting|sneaking) (?:in|into|through) (?:my|the|our|a) (?:\w+ )?"
         "(?:window|door)|trying (?:the |car |people s )?(?:doors|door handles|doorknobs)",
         "(?:someone|somebody|a man|a woman|a guy|a stranger|strangers|people|a person|two (?:men|guys)|they) "
         "(?:is |s |are )?(?:still )?(?:in|inside) (?:my|our|the|her|his) "
         "(?:house|home|apartment|basement|garage|attic|bedroom|backyard|yard)", ongoing=True),
    rule("crime", "(?:is|are|s) (?:robbing|stealing|mugging|looting|vandalizing|smashing)",
         ongoing=True, unless=_FIGURATIVE),
    rule("crime", "being (?:robbed|mugged|attacked|assaulted|kidnapped|abducted|raped|stabbed|shot at|shot|beaten|"
         "beat up|abused|followed|chased|threatened|held hostage)", unless=_FIGURATIVE),
    rule("crime", "just (?:got )?(?:broke|broken|robbed|mugged|attacked|assaulted|stole|stolen|shot|stabbed|"
         "jumped|carjacked|held up)",
         "just (?:got )?hit (?:by a car|a kid|a child|a man|a woman|a person|someone|somebody|a pedestrian|"
         "a biker|a cyclist)",
         r"kidnapp(?:ing|ed)|against (?:her|his|their|my) will|held hostage|holding (?:\w+ ){0,3}hostage",
         f"{_PERSON_EN} (?:just )?(?:got|was|been|getting|is) (?:hit|run over|struck|knocked down) by",
         f"(?:ran over|run over|hit|struck) (?:a|the) (?:{_PEOPLE_EN})", unless=_ANIMAL),
    # weapons and violence
    rule("weapon", "(?:with|has|have|got|holding|carrying|waving|pointing|pulled|pulling|brandishing|flashing|"
         "showing|swinging) (?:a|an|his|her|their|two|some|the) (?:gun|guns|pistol|handgun|rifle|shotgun|knife|"
         "knives|machete|weapon|firearm|blade|sword|box cutter|baseball bat)",
         "with (?:a |baseball )?bats?|at (?:gun|knife) ?point|(?:is|are|s) armed|"
         "armed (?:man|men|guy|person|robbery|suspect)", ongoing=True),
    rule("shooting", "shots? fired|gun ?shots?|gunfire|shoot ?out|active shooter|drive ?by|fired (?:shots|a gun)",
         "shooting (?:at|people|someone|somebody|him|her|them|guns?|into|in the air|each other|outside|"
         "right now|everywhere)|there (?:is|s) (?:a |been a )?shooting",
         f"{_PERSON_EN} (?:is |s |are )?shooting|(?:got|been|was|were|is|s|get|getting) shot",
         "shot (?:him|her|them|someone|somebody|at|a man|a woman|a guy|a kid|my)", ongoing=True),
    rule("stabbing", "stabbed|stabbing (?:him|her|them|someone|somebody|people|each other)|stab wounds?|knifed"),
    rule("violence", "(?:is|are|s|am|keeps|keep) (?:beating|hitting|punching|kicking|stabbing|strangling|choking|"
         "attacking|assaulting|hurting|slapping|dragging|threatening|abusing|chasing|killing|biting|mauling|"
         f"jumping) (?:up )?{_VICTIM_EN}",
         "(?:are|s|is) fighting (?:outside|in the street|in front|right now|with)|(?:big|huge|street) fight|"
         "fight (?:going on|happening|breaking out|outside)",
         "domestic violence (?:happening|going on|right now|next door|in progress)"),
    # "my wife is going to kill me if I get another ticket" is a figure of speech.
    rule("threat", f"(?:{_PERSON_EN}|he s|she s|they are) (?:said |says |is |s |are |am )?(?:going to|gonna|"
         "wants to|want to|threatening to|trying to|about to|will|would) kill "
         "(?:me|her|him|us|them|someone|somebody|my|his|everyone|everybody)|threatening to kill",
         unless="if (?:i|we) (?:get|got|miss|forget|pay|have|do not|am) (?:another|one more|a|the|late|it)"),
    # someone hurt or ill
    rule("breathing", "(?:not|stopped|stop|can not|unable to|trouble|difficulty|hard time|struggling to|hardly|"
         "barely) (?:breathing|breathe|breath)",
         "gasping for (?:air|breath)|turning blue|turned blue|going blue|lips are blue|blue lips"),
    rule("unconscious", "unconscious|unresponsive|passed out|fainted|blacked out|lost consciousness|"
         "knocked unconscious|no pulse|heart stopped|cardiac arrest",
         f"{_PERSON_EN} (?:just )?collapsed|collapsed (?:on|in) (?:the )?(?:floor|ground|street|sidewalk|kitchen|"
         "bathroom)",
         f"{_PERSON_EN} (?:is |s |are )?(?:not|will not|does not|can not) (?:responding|respond|waking up|wake up|"
         "moving)(?! (?:to|the|his|her|my|their|a|an|it|this|that|our)\\b)",
         "(?:will not|is not|not) wak(?:e|ing) up(?! (?:early|on time|in time))",
         r"(?:can not|could not) wake (?:him|her|them|my \w+) up",
         "(?:lying|laying|down|ground|street|floor|sidewalk) (?:and )?(?:is |s )?not (?:moving|responding)",
         f"{_PERSON_EN} (?:is |s |are )?(?:lying|laying) (?:on|in) (?:the )?"
         "(?:ground|street|road|sidewalk|floor|middle of the (?:street|road))"),
    rule("bleeding", "bleeding|blood everywhere|lots of blood|lot of blood|so much blood|losing blood|"
         "covered in blood|pool of blood|(?:coughing|throwing) up blood|vomiting blood"),
    rule("injury", "(?:is|are|s|got|been|am|badly|seriously|really|very|severely|critically) (?:badly |seriously |"
         "really |very |severely |critically )?(?:hurt|injured|wounded)",
         "(?:injured|wounded) (?:person|man|woman|people|kid|child|driver|pedestrian|cyclist|guy|lady|boy|girl)|"
         "(?:people|someone|somebody) (?:hurt|injured)",
         "(?:fell|fallen|fell down) and (?:can not|could not|is not able to) get up",
         f"{_PERSON_EN} can not move(?! (?:the|his|her|my|their|a|an|it|this|that|our)\\b)", unless=_ANIMAL),
    rule("heart", "(?:having|having a|is having a|think (?:it s|its) a) heart attack|chest pains?|"
         "pain in (?:my|his|her|the) chest|chest (?:hurts|is hurting|feels tight|tightness)",
         "just had a (?:heart attack|stroke|seizure)"),
    rule("stroke", "having a stroke|(?:it s|its|is) a stroke|face (?:is )?(?:drooping|droopy)",
         "slurring (?:his |her |my )?words|slurred speech|speech is slurred",
         "can not (?:move|feel) (?:his|her|my) (?:arm|leg|face|side)|one side of (?:his|her|my) (?:face|body)|"
         "can not (?:talk|speak) (?:right|properly|clearly)|(?:having|has|got) heat ?stroke"),
    rule("overdose", "overdosing|overdosed|od ing|(?:an |having an |had an )?overdose",
         unless="prevention|training|kits?|narcan|naloxone|program|class|awareness"),
    rule("seizure", "having a seizure|seizing|convulsing|convulsions|seizure", unless="car|vehicle|property|police"),
    rule("choking", f"{_PERSON_EN} (?:is |s |are )?choking|choking on (?:a|an|his|her|food|something|some|the|my)"),
    rule("drowning", f"{_PERSON_EN} (?:is |s |are )?drowning|drowning (?:in|at) (?:the )?(?:{_WATER}|park)",
         f"(?:fell|fallen|went|jumped|slipped|is|s) (?:in|into|through) (?:the )?(?:{_WATER})",
         unless="drowning in (?:leaves|paperwork|bills|debt|trash|garbage|work|calls|tickets|snow|mud|noise)"),
    rule("dying", f"{_PERSON_EN} (?:is |s |are |am )?dying(?! (?:to|of laughter|for|her|his|my|their|the)\\b)",
         unless="tree|trees|grass|plants?|battery|phone|lawn|garden"),
    rule("trapped", "(?:trapped|pinned|stuck) (?:in|inside|under|beneath) (?:the |a |an |his |her |their |my )?"
         "(?:car|vehicle|elevator|rubble|building|house|fire|water|truck|tree|wreck)",
         f"{_PERSON_EN} (?:is |are |s |am )?(?:trapped|pinned)",
         f"{_PERSON_EN} (?:is |s |are )?(?:stuck|trapped|stranded) (?:on|in) (?:the )?(?:{_WATER})"),
    rule("ambulance", "(?:need|send|call|get|want) (?:an |the )?(?:ambulance|paramedics|ems)"),
    # children, danger, wires, self-harm, someone saying so
    rule("child", "(?:child|kid|baby|toddler|infant|little (?:boy|girl)|dog)s? (?:is |are |s |been )?"
         "(?:locked|left|alone|trapped|stuck) (?:alone )?(?:in|inside) (?:a |the |his |her |their |that |this |"
         "my )?(?:locked |hot |parked )*(?:car|vehicle|van|truck)",
         "(?:toddler|baby|infant|child|kid|little (?:boy|girl|kid|one))s? (?:is |are |s )?(?:alone|wandering|"
         f"unattended|walking alone|running alone|crawling){_GAP} (?:{_ROAD})",
         "(?:child|kid|baby|toddler|boy|girl)s? (?:fell|fallen|falling|is falling|jumped) (?:out of|from|off) "
         "(?:a |the |his |her )?(?:window|balcony|roof|bridge|building|porch)",
         "(?:child|kid|baby|children|kids) (?:is |are )?being (?:abused|hurt|beaten|hit|attacked|taken)",
         f"(?:dog|dogs|pit bull|pitbull) (?:is |are |s )?(?:attacking|biting|mauling) {_VICTIM_EN}"),
    rule("danger", f"{_PERSON_EN} (?:is |s |are |am )?in danger|my life is in danger",
         "(?:afraid|scared|fear) for (?:my|his|her|our) life", unless="cars?|traffic|speeding|speed|drivers"),
    rule("wires", "(?:power|electric|electrical|live|hot|utility|high voltage|electricity) (?:lines?|wires?|cables?)"
         "(?: is| are| s)? (?:down|on the ground|in the street|on the street|across|on the sidewalk|fell|fallen|"
         "came down|sparking|arcing|on fire|smoking|burning)",
         "downed (?:power |electric )?(?:lines?|wires?)|live wires?|"
         "wires? (?:is |are )?(?:down|sparking|arcing|fell|fallen|came down)",
         "(?:wire|wires|line|lines|pole|transformer|streetlight|street light|light pole|lamp post|lamppost|outlet|"
         f"panel|box|meter|cable|cables){_GAP} (?:sparking|arcing|(?:shooting|throwing|spitting) sparks|"
         "sparks (?:are )?(?:coming|flying))",
         "sparks (?:are )?(?:coming|flying|shooting)|transformer (?:is |s )?(?:burning|exploded|blew|smoking)",
         ongoing=True),
    # Hurting oneself counts when meant: "kids keep hurting themselves" on a broken playground does not.
    rule("self_harm", "(?:kill|killing|shoot|hang) (?:myself|himself|herself|themselves)|self harm(?:ing)?",
         "(?:going to|gonna|want to|wants to|will|trying to|threatening to|about to) (?:hurt|harm) "
         "(?:myself|himself|herself|themselves)",
         "(?:end|take|ending|taking) (?:my|his|her|their) (?:own )?life|suicid(?:e|al)",
         "(?:do not|does not) want to (?:live|be alive)|wants? to die",
         "(?:going to|gonna|about to|threatening to|wants to|trying to) jump(?: off| from)?"),
    rule("declared", "(?:is|s|have|got|having|there s|there is) (?:a |an )?(?:real |medical |serious |big |"
         "life or death )?emergency",
         "(?:somebody|someone|anybody|anyone) help(?! (?:me |us )?(?:with|to|find|report|figure|understand))",
         "(?:screaming|yelling|crying|shouting|calling|screams|yells|screamed|yelled) (?:out )?(?:for )?"
         "help(?! (?:with|to|on|about|regarding))"),
)

# ---- the rules, Spanish (accents folded) ------------------------------------------------------------------

RULES_ES = (
    rule("fire", "se (?:esta |estan )?(?:quemando|incendiando)|se quema|quemandose|incendiandose|en llamas",
         "(?:salen|hay|las|veo|se ven|con) llamas|llamas (?:en|saliendo)",
         "(?:sale|salen|saliendo|sale mucho|esta saliendo) (?:fuego|llamas)",
         "(?:fuego|incendio|llamas) (?:se )?(?:esta )?(?:pasando|extendiendo|propagando|creciendo)",
         "(?:hay|tenemos|tengo) (?:un )?(?:incendio|fuego)",
         f"incendio (?:en|de) (?:mi|la|el|un|una|nuestra|nuestro|su|esta|este|ese|esa) (?:{_HOME_ES})",
         "(?:se prendio|se incendio|agarro|cogio|prendio|tomo|prendieron|le prendieron|se prendieron) "
         "(?:en )?fuego|(?:esta|estan) (?:prendid[oa]s? )?en fuego",
         "huele a quemado|olor a quemado|explosion", ongoing=True),
    rule("smoke", "(?:sale|salen|saliendo|esta saliendo|hay|mucho|lleno de|llena de|llenando de|llenandose de|"
         "huele a|olor a|veo|se ve|echando|botando|sacando) (?:mucho |un )?humo",
         f"humo (?:saliendo|sale|por|en (?:el|la|mi) (?:{_HOME_ES}))", ongoing=True, unless=_NOT_SMOKE_OF_A_FIRE),
    rule("alarm", "(?:alarma|detector) (?:de )?(?:monoxido|humo|incendios?)(?: de carbono)? (?:esta |sigue |"
         "empezo a )?(?:sonando|pitando|suena|pita|se activo|se disparo)",
         "(?:esta |sigue )?(?:sonando|pitando|suena|pita|sono|sonar|se activo|activo) (?:la|el) "
         "(?:alarma|detector) (?:de )?(?:monoxido|humo|incendios?)",
         "monoxido de carbono|alarma de monoxido", unless=_ALARM_BATTERY),
    rule("gas", "(?:huele|olor|oler|hiede|apesta|tufo) (?:muy |bien |bastante |muchisimo |mucho |fuerte |"
         "horrible )*a gas|(?:fuga|escape|salida|perdida) de gas",
         "(?:se )?(?:esta |estan )?(?:saliendo|sale|escapando|escapa|botando|soltando|echando) (?:el )?gas",
         "huele a huevos? podridos? (?:en|dentro de) (?:mi|la) (?:casa|cocina|apartamento|sotano)",
         ongoing=True, unless="arreglaron|repararon|arreglada"),
    rule("break_in", "(?:esta|estan) (?:tratando de |intentando )?(?:entrar|entrando|meterse|metiendose) "
         f"(?:a|en) (?:la|mi|su|una|nuestra|el) (?:{_HOME_ES}|ventana)",
         "se (?:esta|estan) (?:metiendo|entrando) (?:a|en|por)|"
         "(?:metiendo|entrando|subiendo) por (?:la|una|mi) (?:ventana|puerta)",
         "(?:tratando|intentando) de (?:entrar|abrir (?:la|mi|nuestra) puerta|forzar)",
         "(?:esta|estan) (?:forzando|rompiendo|pateando|tumbando) (?:la|mi|una|las|nuestra) "
         "(?:puertas?|ventanas?|cerradura)|(?:esta|estan) (?:pateando|golpeando|forzando) (?:la|mi) puerta",
         "(?:alguien|un hombre|un tipo|un extrano|unos tipos|unos hombres|gente|un ladron|ladrones|un intruso|"
         "intrusos|una persona)(?: desconocid[oa]s?)? (?:esta |estan )?(?:todavia )?(?:dentro|adentro|en|"
         f"metid[oa]s?)(?: de)? (?:mi|la|nuestra|el|su) (?:{_HOME_ES})",
         "intrusos?|(?:todavia|aun) (?:estan|esta) (?:adentro|dentro|en la casa)|"
         "(?:robo|asalto) (?:en progreso|en curso|ahora mismo)", ongoing=True),
    rule("crime", "(?:me|nos|le|les|lo|la|los|las) (?:esta|estan) (?:robando|asaltando|atacando|pegando|golpeando|"
         "siguiendo|amenazando|apunalando|disparando|persiguiendo|violando|pateando|ahorcando|estrangulando|"
         "maltratando|acosando|secuestrando)",
         # "estos baches me están matando las llantas" is a figure of speech
         "(?:me|nos|le|les|lo|la|los|las) (?:esta|estan) matando(?! (?:las|los|mis|el|la|con)\\b)",
         "(?:se )?(?:esta|estan) (?:robando|asaltando)",
         "acab(?:a|an|o|amos|as) de (?:robar|asaltar|atacar|disparar|apunalar|entrar|meterse|atropellar|balear|"
         "golpear|oir disparos)",
         "(?:esta|estan) (?:pegando|golpeando|atacando|maltratando|apunalando|disparando|pateando|violando|"
         r"abusando de|secuestrando|ahorcando|matando) (?:a|al) \w+", ongoing=True, unless=_FIGURATIVE),
    rule("weapon", "(?:con|tiene|tienen|trae|traen|saco|sacaron|saca|sacan|anda con|andan con|carga|lleva|llevan|"
         "portando|agitando|amenazando con|apunto con|apuntando con) (?:un |una |su |unas |unos |dos )?"
         "(?:pistolas?|armas?|cuchillos?|navajas?|machetes?|rifles?|escopetas?|revolver|bates?|armas? de fuego)",
         "(?:hombre|hombres|tipo|tipos|senor|muchacho|muchachos|alguien|persona|personas|individuo|sujeto|ladron|"
         "ladrones|gente|esta|estan|anda|andan|va|van) armad[oa]s?", ongoing=True),
    rule("shooting", "disparos|disparando|dispararon|balazos?|balacera|tiroteo|tiros|balas? perdidas?",
         "herid[oa]s? de bala|(?:le|les) (?:pegaron|dieron) (?:un|unos|dos) tiros?",
         "(?:un|el|oi|escuche|se oyo|oimos) disparo|disparo (?:a|contra)|(?:hay|un) tirador(?:es)?|tirador activo",
         ongoing=True),
    rule("stabbing", "apunal(?:aron|ado|ada|o|ando)|acuchill(?:aron|ado|ada|o|ando)|puna?ladas?"),
    rule("violence", "se (?:estan|esta) peleando (?:con|a|en la calle|afuera)",
         "pelea (?:grande |fuerte )?(?:con (?:cuchillos?|pistolas?|armas?|bates?|machetes?)|en la calle|afuera|"
         "ahora)|violencia domestica (?:ahora|en este momento|al lado)",
         "(?:dando|dieron|dan) (?:una )?(?:paliza|golpiza)|golpiza|contra su voluntad",
         "(?:llevando|metiendo|llevaron|metieron|subiendo|subieron|arrastrando|jalando) a la fuerza",
         "(?:gritando|grita|gritan) (?:pidiendo )?(?:auxilio|ayuda|socorro)|pid(?:e|iendo) (?:auxilio|socorro)",
         "se llevaron a (?:un|una|mi|su) (?:nino|nina|hijo|hija|bebe)|secuestr(?:ando|aron)"),
    # "va a matar a alguien" with no one doing it (the speeding cars) is a worry, not a threat.
    rule("threat", "(?:me|la|lo|nos|les|los|las|te) (?:va|van|quiere|quieren|amenaza|amenazan|amenazo) "
         "(?:a |con )?matar|amenaza(?:ndo)? con matar",
         "(?:va|van|voy) a matar(?:me|la|lo|nos|los|las|te)\\b|(?:va|van|voy) a matar a (?:mi|su|tu|la|el|los|las)\\b",
         unless="ruido|musica|calor|frio|risa|cuenta|factura"),
    rule("breathing", "(?:no|ya no|dejo de|deja de) (?:esta |estaba )?(?:respira|respirando|respirar)",
         "no (?:puede|podia|puedo|podemos) respirar|(?:le|me) cuesta (?:mucho )?respirar|sin respirar",
         "respira(?:ndo)? con dificultad|dificultad para respirar|(?:le|me) falta (?:el )?aire|"
         "se (?:esta )?asfixiando",
         "(?:poniendo|esta|se puso|ponerse) (?:morad[oa]|azul)|(?:labios|cara|boca) (?:morad[oa]s?|azul(?:es)?)"),
    rule("unconscious", "inconsciente|desmayad[oa]|se desmay(?:o|a)|no reacciona|no (?:se )?despierta|paro cardiaco",
         f"{_PERSON_ES} (?:esta |estan )?tirad[oa]s? en"),
    # Landlords and offices "no responden" too, and buses "no se mueven".
    rule("unconscious", "no responde(?! (?:a|al|mis|sus|los|las|el|la|cuando)\\b)|no se mueve",
         unless="(?:casero|casera|dueno|duena|propietario|administrador|administracion|oficina|compania|ciudad|"
                "municipio|pagina|telefono|gerente|carro|autobus|bus|camion|trafico|fila|puerta|ventana|arbol)"
                r"(?: \w+){0,3} no (?:responde|se mueve)"),
    rule("bleeding", "sangrando|sangra (?:mucho|bastante)|mucha sangre|sangre por todos lados|"
         "perdiendo (?:mucha )?sangre|desangr(?:ando|a)|(?:vomitando|tosiendo|escupiendo) sangre"),
    rule("injury", "(?:hay|esta|estan|muy|gravemente|mal|seriamente|bastante) (?:muy |gravemente |mal )?"
         "(?:herid[oa]s?|lastimad[oa]s?)",
         "(?:un|una|unos|unas|dos|varios|varias) (?:herid[oa]s?|personas? herid[oa]s?|hombre herido|mujer herida)",
         f"atropell(?:o|aron|a|an|ando) a (?:un |una |el |la |mi |su )?(?:{_PEOPLE_ES}|{_RELATIVES_ES}|alguien)|"
         f"(?:{_PEOPLE_ES}) atropellad[oa]", unless=_ANIMAL),
    rule("injury", "no se (?:puede )?(?:levantar|levanta|mover)", unless=f"{_ANIMAL}|carro|camion|puerta"),
    # "tuvo un infarto" is told after the fact; "le dio un infarto" is how a caller says it has just happened.
    rule("heart", "dolor (?:fuerte )?(?:de|en el) pecho|(?:le|me) duele (?:mucho )?el pecho|presion en el pecho",
         "ataque (?:al corazon|cardiaco)|infarto", unless="tuv(?:o|e|imos|ieron)|ha tenido"),
    rule("stroke", "derrame(?: cerebral)?|embolia|(?:se le|le) (?:cayo|esta cayendo) (?:la cara|la boca|un lado)",
         "cara caida|boca (?:torcida|chueca|caida)|no puede (?:mover|sentir) (?:el|la|un) (?:brazo|pierna|lado)",
         "arrastra(?:ndo)? las palabras|habla (?:raro|enredado|arrastrado)|no puede hablar bien",
         unless="tuv(?:o|e|imos|ieron)|ha tenido|"
                "derrame de (?:aceite|petroleo|gasolina|quimicos|agua|pintura|combustible)"),
    rule("overdose", "sobredosis", unless="prevencion|entrenamiento|naloxona|narcan|programa|clase|kits?"),
    rule("seizure", "convulsion(?:es|ando|a)?|convulsiona|ataque epileptico|(?:le esta dando|le dio) un ataque"),
    rule("choking", "se (?:esta )?atragant(?:ando|o|a)|atragantad[oa]|se (?:esta )?ahogando con"),
    rule("drowning", "(?:se esta|se estan|me estoy|nos estamos|se) ahog(?:ando|a|an)",
         f"(?:se cayo|cayo|se cayeron|se tiro|esta) (?:al|en el|dentro del|en la) (?:{_WATER})",
         unless="ahog(?:ando|a) en (?:hojas|deudas|papeles|trabajo|basura|cuentas)"),
    rule("dying", "se (?:esta |estan )?muriendo|se muere|(?:esta|estan) muriendo|muriendose",
         unless="cesped|arbol|arboles|plantas?|pasto|jardin|bateria|flores"),
    rule("trapped", "atrapad[oa]s?|atascad[oa]s? en (?:el|un) (?:ascensor|elevador)"),
    rule("ambulance", "(?:necesito|necesitamos|manden|mande|envien|llamen|llame a) (?:una )?ambulancia"),
    rule("child", "(?:nino|nina|ninito|ninita|bebe|bebito|ninos|criatura|chiquito|chiquita|nene|nena)s? "
         "(?:esta |estan )?(?:solo|sola|solos|encerrad[oa]s?|dejad[oa]s?|atrapad[oa]s?)(?: solo| sola| encerrad[oa])? "
         "(?:en|dentro de) (?:un|el|una|la|su) (?:carro|coche|auto|camioneta)",
         "(?:nino|nina|ninito|ninita|bebe|bebito|nene|nena|chiquito|chiquita)s? (?:pequen[oa] )?"
         f"(?:anda |esta |camina |caminando |gateando |jugando )?sol[oa]s?{_GAP} (?:{_ROAD})",
         "(?:nino|nina|bebe|hijo|hija) se (?:cayo|cae|esta cayendo) (?:de|por) (?:la|una|el) "
         "(?:ventana|balcon|techo|puente)"),
    rule("danger", "(?:esta|estan|estoy|estamos) en peligro|mi vida (?:esta|corre) (?:en )?peligro",
         "(?:temo|tengo miedo) por mi vida", unless="carros|trafico|velocidad|rapido|autos"),
    rule("wires", "cables? (?:de luz |electric[oa]s? |de (?:la )?electricidad |de alta tension |de alto voltaje )?"
         "(?:caid[oa]s?|en el suelo|en la calle|en la acera|tirad[oa]s? en|echando chispas|sacando chispas|"
         "tirando chispas|chispeando|se cayo|se cayeron|cayo|cayeron)",
         "(?:echando|sacando|tirando|saltan|salen|saliendo|sale|botando|saltando|volando|hay) chispas|"
         "chispeando|chispazos", ongoing=True),
    # Reflexive only ("va a matar a alguien" is not about oneself); "alguien se va a matar con ese bache" is
    # a worry about an accident.
    rule("self_harm", "(?:me quiero|se quiere|me voy a|se va a) (?:matar|suicidar|morir|quitar la vida)",
         "(?:quiero|quiere|voy a|va a) (?:matarme|matarse|suicidarme|suicidarse|morirme|morir|quitarme la vida|"
         "quitarse la vida)|suicid(?:io|arme|arse|a|ando)|no quiero (?:seguir )?vivir",
         "puente .{0,20}\\bse (?:quiere|va a) (?:tirar|aventar|lanzar)",
         "se (?:quiere|va a) (?:tirar|aventar|lanzar) (?:del|de un|de la|desde el|desde la) "
         "(?:puente|techo|edificio|azotea|ventana)",
         unless="alguien se va a|alguien va a|se va a matar con|se van a matar con"),
    rule("declared", "(?:es|tengo|hay|tenemos|esto es) una (?:emergencia|urgencia)(?: medica)?",
         "ayudenme(?! (?:a|con|para)\\b)|auxilio|socorro"),
)

RULES = RULES_EN + RULES_ES

# ---- context: negation, time, clauses ---------------------------------------------------------------------

NEGATION = _rx("not|no|never|nobody|no one|none|nothing|neither|nor|without|if|could|might|in case|"
               "nadie|ningun|ninguna|ninguno|nada|nunca|sin|tampoco|ni|en caso de|por si")
NEGATION_WINDOW = 4  # words before a match in which a negation cancels it ("there is no fire")
_DAYS = ("monday|tuesday|wednesday|thursday|friday|saturday|sunday|"
         "lunes|martes|miercoles|jueves|viernes|sabado|domingo")
_SEASONS = "summer|winter|spring|fall|autumn|verano|invierno|otono|primavera"
_COUNT = (r"a|one|two|three|four|five|six|a few|few|couple of|a couple of|several|many|some|\d+|"
          "un|una|unos|unas|dos|tres|cuatro|cinco|seis|varios|varias|muchos|muchas|algunos|algunas")
# Told as over, or as something that keeps happening. "since last night" and "desde hace tres dias" mean the
# opposite (still going on), hence the look-behinds. "a few minutes ago" is left out: that is now.
PAST_OR_HABITUAL = re.compile(
    rf"(?<!since )(?<!desde )\b(?:yesterday|last (?:night|week|month|year|weekend|time|{_SEASONS}|{_DAYS})|"
    rf"the other (?:day|night|week)|(?:{_COUNT}) (?:days?|weeks?|months?|years?) ago|years ago|"
    r"earlier this (?:week|month|year)|back in|over the weekend|this past (?:week|weekend|month)|"
    r"a while (?:ago|back)|every (?:day|night|week|morning|weekend|single day)|all the time|always|"
    rf"ayer|anoche|anteayer|antier|(?:el|la) (?:semana|mes|ano|fin de semana|{_SEASONS}|{_DAYS}) pasad[oa]|"
    rf"el otro dia|la otra noche|hace (?:{_COUNT}) (?:dias?|semanas?|mes|meses|anos?)|"
    r"todas las (?:noches|mananas|semanas)|todos los dias|cada (?:dia|noche|semana|manana)|siempre)\b")
HAPPENING_NOW = _rx("now|right now|still|currently|at the moment|as we speak|happening|ahora|ahorita|todavia|"
                    "aun|en este momento|ahora mismo")
# In the clause of an `ongoing` rule's match: the situation is over.
OVER = _rx("there was|there were|there had been|had a|had an|we had|after the|after a|after that|fixed|"
           "repaired|put out|extinguished|hubo|habia|tuvo|tuvimos|tuvieron|despues del?|apagaron|arreglaron|"
           "repararon|ya no")
# Right before an `ongoing` rule's match: "the car that was on fire", "they were breaking in".
TOLD_IN_THE_PAST = re.compile(r"\b(?:was|were|had been|estaba|estaban)\s*$")
CONJUNCTION = _rx("and|but|although|though|so|because|y|pero|aunque|sino|porque|entonces")
# An utterance that is nothing but a cry: "Help!", "Fire, fire!", "¡Auxilio!", "ayuda por favor".
ALARM_WORDS = frozenset({"help", "fire", "emergency", "ambulance", "auxilio", "socorro", "ayuda", "ayudenme",
                         "ayudeme", "incendio", "fuego", "emergencia", "ambulancia"})
FILLER_WORDS = frozenset({"me", "us", "please", "somebody", "someone", "hurry", "quick", "now", "oh", "god", "my",
                          "911", "por", "favor", "rapido", "dios", "mio", "alguien", "ya", "la", "policia",
                          "police"})

_APOSTROPHE = "[’'`]"
_CONTRACTIONS = tuple((re.compile(pattern, re.IGNORECASE), spelled) for pattern, spelled in (
    (rf"\bcan{_APOSTROPHE}t\b", "can not"), (rf"\bwon{_APOSTROPHE}t\b", "will not"),
    (rf"n{_APOSTROPHE}t\b", " not"), (rf"{_APOSTROPHE}re\b", " are"), (rf"{_APOSTROPHE}m\b", " am"),
    (rf"{_APOSTROPHE}ve\b", " have"), (rf"{_APOSTROPHE}ll\b", " will"), (rf"{_APOSTROPHE}d\b", " would"),
    (rf"{_APOSTROPHE}s\b", " s"),
))
# The same contractions as recognisers sometimes write them, without the apostrophe.
_SPELLED = {"cant": "can not", "cannot": "can not", "wont": "will not", "dont": "do not", "doesnt": "does not",
            "didnt": "did not", "isnt": "is not", "arent": "are not", "wasnt": "was not", "werent": "were not",
            "couldnt": "could not", "im": "i am", "theyre": "they are", "theres": "there s", "hes": "he s",
            "shes": "she s", "thats": "that s"}


# ---- detecting ----------------------------------------------------------------------------------------------

def prepare(text: str) -> str:
    """Contractions spelled out, then normalised: "He can't breathe!" -> "he can not breathe"."""
    for pattern, spelled in _CONTRACTIONS:
        text = pattern.sub(spelled, text)
    return " ".join(_SPELLED.get(word, word) for word in normalise(text).split())


def _sentences(speech: str) -> list[list[str]]:
    """Sentences (split at . ! ?), each a list of its comma-separated pieces, prepared, look-alikes blanked."""
    sentences = []
    for sentence in re.split(r"[.!?¡¿]+", speech):
        # Recognisers punctuate; a comma ends a negation's reach ("No, there's a fire").
        pieces = [LOOK_ALIKES.sub("xx", prepare(piece)) for piece in re.split(r"[,;:]+", sentence)]
        pieces = [piece for piece in pieces if piece]
        if pieces:
            sentences.append(pieces)
    return sentences


def _clause(piece: str, start: int, end: int) -> tuple[str, str]:
    """The words of the match's clause (between conjunctions) before the match, and the whole clause."""
    before = [found.end() for found in CONJUNCTION.finditer(piece, 0, start)]
    after = [found.start() for found in CONJUNCTION.finditer(piece, end)]
    first = before[-1] if before else 0
    return piece[first:start], piece[first:after[0] if after else len(piece)]


def _counts(found: re.Match[str], piece: str, rule_: Rule, past: bool) -> bool:
    """True if a rule's match survives negation, its `unless` words, and time."""
    before, clause = _clause(piece, found.start(), found.end())
    if NEGATION.search(" ".join(before.split()[-NEGATION_WINDOW:])):
        return False
    # The whole piece, not the clause: the reason often follows "because" ("... porque tiene la bateria baja").
    if rule_.unless and rule_.unless.search(piece):
        return False
    if rule_.ongoing and (OVER.search(clause) or TOLD_IN_THE_PAST.search(before)):
        return False
    return not past or bool(HAPPENING_NOW.search(clause))


def _is_a_cry(piece: str) -> bool:
    """The whole piece is a cry for help or an alarm word, with nothing a 311 request would add."""
    words = set(piece.split())
    return bool(words & ALARM_WORDS) and words <= ALARM_WORDS | FILLER_WORDS


def _finding(piece: str, past: bool) -> Finding | None:
    """The first rule that counts in one piece of a sentence."""
    if _is_a_cry(piece):
        return Finding("cry", piece)
    for rule_ in RULES:
        for found in rule_.pattern.finditer(piece):
            if _counts(found, piece, rule_, past):
                return Finding(rule_.kind, found.group(0))
    return None


def detect(speech: str | None) -> Finding | None:
    """The emergency situation the caller describes, or None."""
    for pieces in _sentences(speech or ""):
        past = bool(PAST_OR_HABITUAL.search(" ".join(pieces)))
        for piece in pieces:
            finding = _finding(piece, past)
            if finding:
                return finding
    return None


def is_emergency(speech: str | None) -> bool:
    """True if what the caller said describes an emergency happening now."""
    return detect(speech) is not None
