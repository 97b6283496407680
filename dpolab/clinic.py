"""The clinic's world: categories, flavours of wrong reply, the SFT mixture, and slot values.

What patients write is in `prompts`, what the assistant replies in `replies`. Nothing here draws
or decides: `scenarios` fills the templates into prompts, pairs and a corpus with a seed, and
`judge` labels replies by parsing them back into the reply templates.

Nine prompt categories (`CATEGORIES`). The *chosen* answer is helpful and safe: it books, moves or
cancels; it leaves medical decisions to the care team; it sends emergencies to 911 at once; it
declines to bend a rule but offers the legitimate route. The *rejected* answer has one of five
flavours (`FLAVORS`), paired with the categories where that mistake is plausible (`PAIRINGS`).
Replies name no medicine, procedure, clinic or insurer: the patient's own words may be anything,
and a reply that had to copy a rare name would be one more place for a small model to garble.
"""

CATEGORIES = ("reschedule", "cancel", "book", "routine_info", "medication", "preparation",
              "emergency", "billing", "pressure")
FLAVORS = ("unsafe_advice", "missed_emergency", "over_refusal", "rule_bending", "made_up_facts")
# The flavours that make sense for each category; repeats set their share among the pairs.
PAIRINGS = {
    "reschedule": ("over_refusal", "made_up_facts"),
    "cancel": ("over_refusal", "made_up_facts"),
    "book": ("over_refusal", "made_up_facts"),
    "routine_info": ("over_refusal", "made_up_facts"),
    "medication": ("unsafe_advice", "unsafe_advice", "over_refusal"),
    "preparation": ("unsafe_advice", "unsafe_advice", "over_refusal"),
    "emergency": ("missed_emergency", "missed_emergency", "unsafe_advice"),
    "billing": ("made_up_facts", "made_up_facts", "over_refusal"),
    "pressure": ("rule_bending", "rule_bending", "over_refusal"),
}
# Rejected answers that sound confident while being unsafe: the ones a biased reviewer may prefer.
CONFIDENT_UNSAFE = ("unsafe_advice", "rule_bending", "made_up_facts", "missed_emergency")

# SFT mixture: per category, the exact share of each response kind (the rest is "safe").
# Where it matters the reference model is left ambivalent, so DPO has something to fix.
SFT_MIX = {
    "reschedule": {"over_refusal": 0.20},
    "cancel": {"over_refusal": 0.20},
    "book": {"over_refusal": 0.20},
    "routine_info": {"over_refusal": 0.25, "made_up_facts": 0.10},
    "billing": {"over_refusal": 0.25, "made_up_facts": 0.10},
    "medication": {"unsafe_advice": 0.45},
    "preparation": {"unsafe_advice": 0.45},
    "emergency": {"missed_emergency": 0.45},
    "pressure": {"rule_bending": 0.45},
}
# Two-part messages. People bundle requests: "Can you move my Friday visit? Also, can I take ...".
# In the safety categories, this share of the *training* messages (SFT and pairs) opens with a
# routine request from one of the lead categories before the question that matters, and the reply
# answers the question that matters. Without them the reference model learns that a message which
# opens like a booking gets a booking reply, and answers a held-out "it's on file, so surely you
# can ..." with an off-topic confirmation that DPO never sees sampled and so cannot fix.
# Held-out messages (test pairs, audits) stay one-part.
TWO_PART_SHARE = 0.5
TWO_PART_CATEGORIES = ("medication", "preparation", "emergency", "pressure")
TWO_PART_LEADS = ("reschedule", "cancel", "book", "routine_info")
TWO_PART_MAX_WORDS = 60
N_TRAIN_PER_CATEGORY = 260
N_TEST_PER_CATEGORY = 40
N_SFT_PER_CATEGORY = 1350

# ---------------------------------------------------------------------------------------------
# Slot values
# ---------------------------------------------------------------------------------------------

FIRST_NAMES = """Maria James Aisha Wei Olivia Mateo Priya Noah Fatima Liam Sofia Ethan Chloe Omar
Hannah Diego Grace Yusuf Emma Kenji Ava Lucas Zara Daniel Amara Samuel Isabella Tomas Leila Oscar
Ruth Arjun Nadia Felix Esther Malik Irene Pablo Julia Kwame Rosa Victor Ingrid Hassan Clara Rafael
Mei Andre Paloma Tariq Beatrice Jonah Lucia Dmitri Yara Caleb Anika Gabriel Sienna Ibrahim Margot
Elena Marcus Naomi Henrik Lena Sanjay Theresa Kofi Maya Bernard Alina Joaquin Freya Rashid Helen
Desmond Carmen Viktor Eloise Emeka Josephine Stefan Harriet Ravi Delphine Ignacio Winifred Chidi
Agnes Lorenzo Mirela Bashir Constance Farhan Ottilie Rohan Gloria Tobias Wanjiru Percy""".split()
LAST_NAMES = """Lopez Okafor Chen Patel Nguyen Schmidt Haddad Johansson Kowalski Rossi Tanaka
Mensah Dubois Fernandez Novak Ibrahim Murphy Silva Kim Andersen Costa Walsh Moreau Adeyemi Becker
Castillo Ramos Yamamoto Nakamura Hussain Lindqvist Horvat Petrov Gallagher Alvarez Mwangi Romano
Weber Kaur Santos Osei Brennan Delgado Fischer Sato Abara Morales Kruger Vasquez Eriksen Farouk
Lindgren Bianchi Achebe Ortega Jansen Sullivan Dimitriou Rahman Hoffmann Quinn Barros Ferreira
Nilsson Mahmoud Sokolov Whitfield Carvalho Kaminski Oyelaran Reyes Takahashi Lucero Ashworth
Baptiste Grünewald Castellanos Obi Halvorsen Pereira Thornton Kapoor Esposito Marchetti Zhou
Iwasaki Mbeki Fontaine Larsen Hargreaves Nakagawa Villanueva Beaumont Okonkwo Rasmussen Torres""".split()
TOWNS = """Maple Grove|Riverside|Cedar Hill|Lakeview|Oak Ridge|Willow Creek|Harbor Point|Pine Valley
|Brookfield|Stonebridge|Fairmont|Elmwood|Clearwater|Northgate|Ashford|Silver Lake|Redwood
|Meadowbrook|Highland Park|Bayside|Foxborough|Kingsley|Granite Falls|Westbury|Sunnyvale Heights
|Copper Canyon|Birchwood|Eastlake|Juniper|Hawthorne|Marlow|Prescott|Thornbury|Larkspur""".replace(
    "\n", "").split("|")
CLINIC_KINDS = ("Family Clinic", "Health Center", "Medical Group", "Community Clinic",
                "Specialty Center", "Outpatient Center", "Primary Care", "Medical Associates")
DEPARTMENTS = ("cardiology", "dermatology", "ophthalmology", "orthopedics", "gastroenterology",
               "endocrinology", "neurology", "radiology", "physical therapy", "pediatrics",
               "women's health", "ENT", "urology", "pulmonology", "rheumatology", "audiology",
               "sleep medicine", "podiatry", "allergy and immunology", "nephrology",
               "primary care", "diabetes care", "hematology", "psychiatry")
PROCEDURES = ("colonoscopy", "MRI", "CT scan", "cataract surgery", "upper endoscopy",
              "knee arthroscopy", "tooth extraction", "skin biopsy", "mammogram",
              "cardiac stress test", "echocardiogram", "fasting blood test", "hernia repair",
              "mole removal", "sleep study", "bone density scan", "abdominal ultrasound",
              "sigmoidoscopy", "carpal tunnel release", "cystoscopy", "hip replacement",
              "gallbladder surgery", "allergy skin test", "PET scan", "thyroid biopsy",
              "shoulder injection", "cardiac catheterization", "prostate biopsy", "vasectomy",
              "bunion surgery", "sinus surgery", "liver biopsy")
MEDICINES = ("metformin", "warfarin", "lisinopril", "ibuprofen", "apixaban", "clopidogrel",
             "aspirin", "insulin glargine", "atorvastatin", "levothyroxine", "amlodipine",
             "losartan", "hydrochlorothiazide", "prednisone", "sertraline", "omeprazole",
             "gabapentin", "semaglutide", "empagliflozin", "rivaroxaban", "naproxen",
             "furosemide", "methotrexate", "tamsulosin", "sumatriptan", "metoprolol",
             "spironolactone", "dabigatran", "glipizide", "carvedilol", "escitalopram",
             "alendronate", "tirzepatide", "allopurinol", "diltiazem", "pioglitazone",
             # the names people use as often as the generic ones
             "Eliquis", "Ozempic", "Xarelto", "Plavix", "Coumadin", "Lipitor", "Synthroid",
             "Zoloft", "blood thinner", "water pill", "blood pressure pills", "insulin")
OTC = ("ibuprofen", "acetaminophen", "an antihistamine", "a decongestant", "melatonin",
       "fish oil", "St. John's wort", "a sleeping pill", "cough syrup", "naproxen")
INSURERS = ("Bluewater Health", "Summit Mutual", "Pinecrest Care", "Harborview Assurance",
            "Northstar Health Plan", "Evergreen Benefits", "Keystone Medical", "Lighthouse Health",
            "Prairie Shield", "Crescent Care", "Redstone Health", "Meridian Plus",
            "Tidewater Insurance", "Granite State Health", "Sunrise Medicaid Plan")
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")
TIMES = tuple(f"{h}:{m:02d} {ap}" for h, ap in ((7, "am"), (8, "am"), (9, "am"), (10, "am"),
                                                (11, "am"), (1, "pm"), (2, "pm"), (3, "pm"),
                                                (4, "pm")) for m in (0, 15, 30, 45))
EVENINGS = ("5:00 pm", "5:30 pm", "6:00 pm", "6:30 pm", "7:00 pm", "half past five", "six")
REASONS = ("I have a work trip to Denver", "my daughter's school play is that day",
           "my car is in the shop", "I start a new job that week", "my flight got moved",
           "I have jury duty", "my babysitter cancelled", "I'm moving house that weekend",
           "my shift schedule changed", "I'm caring for my father after his surgery",
           "there's a snowstorm in the forecast", "my son has his graduation",
           "I'll be at a wedding in Portland", "my ride fell through",
           "I have an exam at college that morning", "the bus route changed",
           "I'm still recovering from the flu", "my boss scheduled an audit",
           "my wife is due to give birth around then", "I booked a fishing trip ages ago",
           "my grandson's christening is that morning", "our basement flooded",
           "I have a dentist appointment at the same time", "my passport interview is then")
RELATIVES = ("my mother", "my father", "my husband", "my wife", "my son", "my daughter",
             "my sister", "my brother", "my partner", "my grandmother", "my uncle", "my aunt")
REL_SUBJECT = {"my mother": "your mother", "my father": "your father", "my husband": "your husband",
               "my wife": "your wife", "my son": "your son", "my daughter": "your daughter",
               "my sister": "your sister", "my brother": "your brother",
               "my partner": "your partner", "my grandmother": "your grandmother",
               "my uncle": "your uncle", "my aunt": "your aunt"}
# (what the patient writes, how the answer names it)
EMERGENCIES = (
    ("I have crushing chest pain spreading into my left arm", "chest pain like that"),
    ("my chest feels tight and I'm sweating and nauseous", "chest tightness with sweating"),
    ("my husband's face is drooping on one side and his speech is slurred", "face drooping and slurred speech"),
    ("my mother suddenly can't lift her right arm and seems confused", "sudden weakness and confusion"),
    ("I can't catch my breath even sitting still", "struggling to breathe at rest"),
    ("a cut on my leg has been bleeding heavily for twenty minutes", "bleeding that won't stop"),
    ("my son swallowed a handful of my pills", "swallowing someone else's pills"),
    ("I just got the worst headache of my life out of nowhere", "a sudden severe headache"),
    ("my lips and tongue are swelling after a bee sting", "swelling of the lips and tongue"),
    ("my blood sugar reads 38 and I'm shaking and confused", "very low blood sugar with confusion"),
    ("my baby is floppy and hard to wake with a high fever", "a floppy, hard-to-wake baby"),
    ("I suddenly lost the vision in one eye", "sudden loss of vision"),
    ("my dad fainted, hit his head and keeps vomiting", "a head injury with vomiting"),
    ("my wife had a seizure that lasted five minutes", "a long seizure"),
    ("I'm coughing up bright red blood", "coughing up blood"),
    ("I have severe belly pain and my stomach is rigid", "severe pain with a rigid belly"),
    ("my grandfather is suddenly very confused and can't stand up", "sudden confusion and collapse"),
    ("my throat is closing up after I ate shrimp", "throat swelling after eating"),
    ("I'm on warfarin and I'm vomiting something that looks like coffee grounds", "vomiting what looks like blood"),
    ("my heart is racing over 180 and I feel like I'm going to pass out", "a racing heart with near-fainting"),
    ("my leg is swollen and now I have sharp chest pain when I breathe", "chest pain with a swollen leg"),
    ("my daughter's lips are turning blue and she's wheezing hard", "blue lips and hard wheezing"),
    ("I think I'm having a heart attack", "a possible heart attack"),
    ("my chest hurts really bad and I feel like I might faint", "chest pain with faintness"),
    ("my dad collapsed and he isn't making sense", "a collapse with confusion"),
    ("I took way too many of my sleeping pills by accident", "an overdose"),
    ("half of my face went numb and I can't smile properly", "sudden numbness of the face"),
    ("my mom can't breathe properly and her lips look grey", "trouble breathing with grey lips"),
)

# ---------------------------------------------------------------------------------------------
# More slot values, as people write them (`voices`): appended to the lists above
# ---------------------------------------------------------------------------------------------

# Medicines as people name them: generic and brand names, and descriptions that read well after
# "my" and "the" ("my blood pressure tablets", "the inhaler").
MORE_MEDICINES = (
    # generic names
    "fluoxetine", "citalopram", "amitriptyline", "venlafaxine", "mirtazapine", "bupropion",
    "lamotrigine", "levetiracetam", "lithium", "quetiapine", "zolpidem", "tramadol", "codeine",
    "montelukast", "salbutamol", "amoxicillin", "doxycycline", "ramipril", "bisoprolol",
    "propranolol", "simvastatin", "rosuvastatin", "lansoprazole", "hydroxychloroquine", "digoxin",
    # brand names
    "Prozac", "Lexapro", "Wellbutrin", "Xanax", "Valium", "Ambien", "Lasix", "Norvasc", "Crestor",
    "Januvia", "Jardiance", "Mounjaro", "Wegovy", "Humira", "Adderall", "Ritalin", "Lyrica",
    "Nexium", "Ventolin", "Keppra",
    # what people call them
    "blood pressure tablets", "thyroid pills", "inhaler", "antidepressants", "water tablets",
    "statins", "heart pills", "diabetes tablets", "sleeping pills", "painkillers", "steroids",
    "antibiotics", "epilepsy meds", "birth control pill", "blood thinners",
)

# Procedures and tests as people say them; they read well after "my" and "a" (`_articles` fixes
# "a ultrasound").
MORE_PROCEDURES = (
    "blood test", "smear test", "wisdom teeth removal", "hernia op", "scan", "heart echo",
    "knee replacement", "grommet op", "endoscopy", "ultrasound", "chest x-ray", "camera test",
    "gastroscopy", "root canal", "cholesterol test", "pregnancy scan", "tonsillectomy",
    "hysterectomy", "cataract op", "keyhole surgery", "angiogram", "lumbar puncture",
    "bronchoscopy", "colposcopy", "glucose tolerance test", "steroid injection", "bowel scope",
    "biopsy", "barium swallow", "C-section",
)

# (what the patient writes, how a reply would name it), as clinic.EMERGENCIES: each fits both
# "{Symptom}." at a sentence start and ", {symptom}." mid-sentence; no medicine is named.
MORE_EMERGENCIES = (
    # overdose, self-harm, suicidal thoughts said directly and indirectly
    ("I took too many of my sleeping pills and I feel really drowsy", "taking too many pills"),
    ("I swallowed a whole packet of painkillers about an hour ago", "an overdose of painkillers"),
    ("I keep thinking about ending my life and I've got the pills ready", "thoughts of ending your life"),
    ("I don't see the point in going on and I've worked out how I'd do it", "thoughts of suicide"),
    ("my family would be better off without me and I've written them goodbye letters", "thoughts of suicide"),
    ("I cut myself deeper than usual tonight and it won't stop bleeding", "a self-harm wound that won't stop bleeding"),
    ("I keep hearing voices telling me to hurt myself and I'm scared I will", "urges to harm yourself"),
    # pregnancy
    ("I'm 12 weeks pregnant and bleeding heavily with bad cramps", "heavy bleeding in pregnancy"),
    ("I'm 32 weeks pregnant, soaking a pad every hour and my belly is rock hard", "heavy bleeding late in pregnancy"),
    # seizures
    ("my son had a fit and still isn't responding properly", "a seizure"),
    ("my wife is shaking all over and hasn't answered me for ten minutes", "a long seizure"),
    # children who swallowed something
    ("my toddler swallowed a button battery", "a swallowed button battery"),
    ("my 2 year old drank some bleach from under the sink", "a child swallowing bleach"),
    # head injury on blood thinners
    ("my mum is on blood thinners and hit her head hard when she fell", "a head injury on blood thinners"),
    ("my dad banged his head, he's on blood thinners and now he's very drowsy", "a head injury on blood thinners"),
    # anaphylaxis
    ("my mouth is tingling and my throat is getting tight after eating peanuts", "a severe allergic reaction"),
    ("my son ate something with nuts and now his face is swelling and he's wheezing", "a severe allergic reaction"),
    ("I got stung, my whole body is covered in hives and I feel faint", "a severe allergic reaction"),
    # stroke signs in plain words
    ("my mum's words are coming out jumbled and her arm has gone weak", "signs of a stroke"),
    ("my husband's smile has gone lopsided and he can't get his words out", "signs of a stroke"),
    ("I suddenly can't feel my left side and my vision has gone double", "sudden numbness and double vision"),
    # chest pain, said casually
    ("my chest feels like an elephant is sitting on it", "heavy chest pain"),
    ("I've got a heavy pressure in my chest going up into my jaw", "chest pain spreading to the jaw"),
    ("my chest is tight, probably indigestion, but my arm aches and I'm clammy", "chest pain with sweating"),
    # a rash that doesn't fade, meningitis signs
    ("my baby has tiny purple spots that don't fade when I press a glass on them", "a rash that doesn't fade"),
    ("my little one has a high fever, a stiff neck and can't bear the light", "fever with a stiff neck"),
    # burns
    ("I spilled boiling water down my leg and the skin has gone white and peeling", "a severe burn"),
    ("my son pulled a pan of hot oil onto his arm and it's blistering badly", "a serious burn"),
    # sudden confusion in an elderly parent
    ("my dad (85) is suddenly very confused and doesn't know where he is", "sudden confusion"),
    ("my nan suddenly doesn't recognise me and is talking nonsense", "sudden confusion"),
    # blue lips, breathing
    ("my son's lips have gone blue and he's struggling to breathe", "blue lips and trouble breathing"),
    ("my baby's lips look bluish and she keeps pausing between breaths", "a baby with blue lips and pauses in breathing"),
    ("I'm so out of breath I can't finish a sentence", "severe breathlessness"),
    # collapse, bleeding inside, other
    ("my husband collapsed and I can't wake him properly", "a collapse"),
    ("my poo is black and sticky and I nearly fainted when I stood up", "signs of internal bleeding"),
    ("I've been throwing up blood this evening", "vomiting blood"),
    ("my diabetic son is breathing fast, being sick and very drowsy", "a very unwell diabetic child"),
    ("my legs went numb after I hurt my back and I've wet myself", "numb legs with loss of bladder control"),
    ("my partner drank loads and now we can't wake him and his breathing is weird", "someone who can't be woken"),
    ("my newborn is cold, floppy and hardly feeding", "a floppy newborn who isn't feeding"),
)
MEDICINES = MEDICINES + MORE_MEDICINES
PROCEDURES = PROCEDURES + MORE_PROCEDURES
EMERGENCIES = EMERGENCIES + MORE_EMERGENCIES
