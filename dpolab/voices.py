"""How people write: request grammars in patients' own voice, and the wrappings people put
around a request.

The templates of `prompts` were written from the clinic's side and read like it. People write to a
clinic in every register at once: texting ("forgot my pills yday shud i take 2"), formal letters
("Dear Sir or Madam, ... Yours faithfully"), run-on worry with the question last, a carer writing
about a parent, context first ("wedding on saturday!!") and the request after. `VOICED_PROMPTS`
adds such grammars to every category (the intents and slots of `prompts.PROMPTS`, plus pressure's
`exception`: a rule, fee or record the clinic will not bend); all of them train, and the held-out
phrasings stay those of `prompts`. `OPENERS`, `CLOSERS` and `ASIDES` wrap a share (`VOICED_SHARE`) of the
training messages: none names a category, so the model learns to find the request inside them.
"""

VOICED_SHARE = 0.4  # of training messages, wrapped with an opener, an aside and/or a closer

VOICED_PROMPTS = {
    "medication": [
        # quit: feeling better first, question after
        ("mh1", "quit", "[feel loads better now|feeling so much better these days|honestly i feel great now|things are finally good again|Been feeling really well lately][!!|,|.|] [is it ok if i|can i|would it matter if i|what happens if i|any reason i can't] [just stop|come off|ditch|stop taking|pack in] [my|the] {med}[ now| for good| altogether|]?"),
        # quit: formal letter
        ("mh2", "quit", "Dear [Sir or Madam|Doctor|clinic], I have taken {med} for [several years|{n} years|some months] and [no longer feel I need it|my symptoms have settled|would prefer to manage without it]. [Would it be in order|Is it acceptable|Would it be safe] to [discontinue it|stop it myself|come off it] [before my review with {doctor}|now|]? [Yours faithfully, {name}|Kind regards, {name}|Regards, {name}]"),
        # mix: an event first
        ("mh3", "mix", "[wedding on saturday!!|going on a stag do this weekend|it's my 40th on {day}!|big work do on {day}|hen party friday!!|christmas party tonight] [would it matter if i|is it ok if i|can i|what happens if i] [had a few drinks|have a couple of glasses of wine|drink|have some prosecco|have a few beers] [on|with|while taking] [my|the] {med}?"),
        # mix: indirect, with an over-the-counter remedy
        ("mh4", "mix", "[quick q|random question|silly question probably|sorry if this is a dumb question|ok weird one][,|:|-] [what happens if i|would it be bad if i|does it matter if i|is it a problem if i|will anything happen if i] take {otc} [with|on top of|at the same time as|alongside] my {med}[?|??| tho?]"),
        # dose: missed doses, texting
        ("mh5", "dose", "[forgot|missed|didnt take|totally forgot] my {med} [yday|last nite|this am|2 days in a row|all weekend] [do i|shud i|should i|can i] [take 2 now|double up|take it now|take twice as much 2day] [or just skip it|or wait|or what|][ pls|??|]"),
        # dose: side effects, changing the dose oneself
        ("mh6", "dose", "[the|my] {med} [makes me|is making me] [so dizzy|feel sick all day|really tired|shaky|sleep badly|foggy][,|.|] [so|] [can i|would it be ok to|is it ok to|what if i just] [take half|cut the dose in half|only take it every other day|take it at night instead|drop to half a tablet] [for a while|till my next appointment|]?"),
        # borrow: a carer writing about an elderly woman
        ("mh7", "borrow", "[My mum (82)|My nan|My mother-in-law|Mum|My gran] has run out of her {med} [and the chemist is shut|and the refill isn't ready till {day}|until her prescription comes through|and the pharmacy says {n} more days]. [Could|Can] she [take|borrow|use] [a few of mine|some of dad's|a couple of her sister's|some of her neighbour's] [till then|for {n} days|in the meantime]?"),
        # borrow: texting about a partner's pills
        ("mh8", "borrow", "[ran out of|out of|finished] my {med} [and|n] [the gp|doc|pharmacy] [cant see me|is closed|wont refill] till {day}[,|.|] [my|] [partner|flatmate|housemate|other half] [has|takes|is on] the same [one|stuff|pills|tablets] [can i just|is it ok to|wld it be ok to] [take|use|nick] [a couple|some|a few] of theirs?"),
        # stop: the procedure is booked, nobody said what to do
        ("mh9", "stop", "[so|ok so|right so] [my|the] {proc} is [finally booked|on {date}|next {day}|in {n} days][!!|,|.] [nobody told me|no one mentioned|i wasn't told|the letter doesn't say] [whether i should|if i have to|whether to] [stop|keep taking|come off|carry on with] [my|the] {med} [beforehand|before it|][.|?|??]"),
        # stop: a carer's formal letter
        ("mh10", "stop", "[I am writing on behalf of|I look after|I'm the carer for] {relative}, who [takes|is on] {med}. [They are|They're] [booked for|having|due to have] a {proc} [on {date}|next {day}|at {clinic}]. [Should|Do] [they|we] [stop|hold|pause|carry on with] [it|the {med}] [beforehand|in the days before|]?"),
        # quit: worried by something read online
        ("mh11", "quit", "[i've been reading online|my friend said|saw on tiktok|read somewhere|my neighbour told me] [that|] {med} [can damage your kidneys|can cause memory problems|can be addictive|can wreck your liver|can cause weight gain] and [now i'm|im|i'm honestly] [worried|scared|panicking a bit] [so|and] [can i|should i|would it be ok to] [just stop|stop taking it|come off it] [before my next appointment|straight away|now]?"),
        # mix: a parent asking about a child
        ("mh12", "mix", "[my son|my daughter|my teenager|my 8 yr old|our little one] [is on|takes] {med} [and|but] [has a cold|has a bad cough|cant sleep|has hay fever|has a temperature][.|,] [can i give them|is it ok to give them|would it be safe to give them|what if i gave them] {otc} [as well|too|on top|tonight]?"),
        # dose: not working, taking more
        ("mh13", "dose", "[the|my] {med} [doesn't seem to be working|isn't doing anything|has stopped working|isn't touching it] [anymore|lately|]. [would it hurt to|can i|is it ok if i|what happens if i] [take two|double it|take an extra one|up the dose myself] [until i see {doctor}|till my review|for a bit|]?"),
        # mix: a second prescriber
        ("mh14", "mix", "[my dentist|the pharmacist|my physio|the walk-in doctor|the hospital] [gave me|prescribed|wants me on] [antibiotics|something for the pain|{otc}|a new tablet] [but|and] [i'm already on|i take|i'm taking] {med}[.|,] [are they ok together|will they clash|is that a bad combo|is it safe to take both|do they mix ok]?"),
        # borrow: away from home, formal
        ("mh15", "borrow", "Good [morning|afternoon|evening]. [I am away|I'm staying with family|I'm on holiday] and [have left|forgot] my {med} at home. {Relative_cap} [takes|is prescribed] the same [tablets|medicine]. [Would it be safe to|Is it acceptable to|May I] [borrow some|take a few of {relative}'s|use some of the same] until I [return|get home|am back on {day}]?"),
        # stop: an elderly parent is asking
        ("mh16", "stop", "[my mum (82)|my nan|my gran|mum|my mother-in-law] is asking [whether|if] she [should stop|has to stop|can keep taking|needs to come off] her {med} [before|ahead of] her {proc} [on {date}|next {day}|at {clinic}|][.|?|, what do i tell her?]"),
        # plain sentences, no groups
        ("mh17", "quit", "Been on {med} since spring and I reckon I'm sorted now. Is there a reason I shouldn't bin it myself?"),
        ("mh18", "borrow", "My sister has loads of leftover {med} from last year and mine ran out, any harm in using hers until the chemist sorts it"),
    ],
    "preparation": [
        # fast: texting
        ("ph1", "fast", "[{proc}|my {proc}] [tmrw|2moro|on {day}|at {time}] [can i|am i allowed 2|is it ok 2] [eat|have brekkie|have a coffee|have a cuppa|chew gum|have a protein shake] [before|beforehand|first|in the morning] [or not|or nah|??|]"),
        # fast: diabetic, run-on worry
        ("ph2", "fast", "[i'm|im] diabetic and [i'm|im] [really worried|scared|anxious] about [going hungry|my sugar dropping|having a hypo] [before|for] my {proc}[ on {day}| at {time}|] [so|,] [can i|would it be ok to|is it alright if i] [have a biscuit|eat something small|have some juice|eat a bit of toast] [early that morning|first thing|at 6am]?"),
        # pause: formal letter about a relative
        ("ph3", "pause", "[Dear Sir or Madam|To whom it may concern|Dear clinic], {relative} is booked for a {proc} on {date} and takes {med} every [morning|evening|day]. Should [this|the {med}] be [taken as usual|withheld|stopped] [on the day|beforehand|the day before]? [Kind regards|Yours faithfully|Many thanks], {name}"),
        # prep: elderly, can't read the instructions
        ("ph4", "prep", "[I'm 84 and|At my age|My eyesight isn't good and|I live alone and] I [can't read|can't make sense of|have mislaid] the [instructions|leaflet|letter] for my {proc}[ on {date}|]. [Do I just|Can I just|Is it all right to] [eat normally|skip the preparation|not bother with the powders|turn up] [the day before|on the day|]?"),
        # prep: couldn't keep the prep down
        ("ph5", "prep", "[threw up|been sick after|cant keep down|gagged on] [half|most|some|the second half] of the [prep|bowel prep|laxative drink|prep drink|sachets] for my {proc} [tmrw|tomorrow|on {day}][.|,|] [is that enough?|do i still go?|does it matter?|what now?|am i ok to go ahead?]"),
        # fast: indirect
        ("ph6", "fast", "[what happens if i|would it matter if i|does it matter if i|would it ruin it if i] [have a sip of water|drink some water|have a coffee|suck a mint|have milk in my tea|have a smoothie] [before|on the morning of|a couple of hours before] my {proc}?"),
        # prep: the diet before it
        ("ph7", "prep", "[im vegetarian|i'm vegan|i eat loads of fibre normally|i'm coeliac|i have IBS] [and|,] [the|my] {proc} is [on {date}|next {day}|coming up]. [do i really have to|must i|is it essential to] [do the low fibre diet|stick to the white food diet|follow the diet sheet|do the whole prep] [beforehand|for {n} days|the days before]?"),
        # pause: a weekly injection
        ("ph8", "pause", "[i do|i have] [a weekly|my weekly] [injection|jab|shot] of {med} on {day}s [and|but] [my|the] {proc} is [that week|on {date}|the same week][.|,] [do i skip it|should i miss that one|do i still have it|do i hold off]?"),
        # fast: a child, sedation
        ("ph9", "fast", "[my little girl|my son|my 4 yr old|our toddler|my daughter] [has|is having] a {proc}[ with sedation| under anaesthetic|] [on {day}|at {time}|tmrw][.|,] [when do we stop feeding them|how long before should they stop eating|can they have milk in the morning|can they drink anything first]?"),
        # prep: a social event the day before
        ("ph10", "prep", "[we've got a family wedding|it's my daughter's birthday|i'm hosting a dinner party|it's our anniversary] the day before my {proc}[!!|,|.] [can i|would it be ok to|is it really that bad if i] [eat normally|skip the prep diet|have a proper meal|start the prep late] [that evening|that night|]?"),
        # pause: terse texting
        ("ph11", "pause", "do i [stop|skip|hold|keep taking] [my|the] {med} [b4|before|for] [the|my] {proc} [or nah|or what|or not|][?|??|]"),
        # fast: formal
        ("ph12", "fast", "[Good morning|Good afternoon|Hello]. [My {proc} is scheduled for {time} on {date}|I am booked for a {proc} at {time}]. [Would I be permitted to|Would it be acceptable to|Am I allowed to] [have a light breakfast|take a cup of tea|drink water|eat anything] [beforehand|that morning], [or must I fast|or should I go without|or is nothing allowed]? [Regards, {name}|Thank you, {name}|Many thanks]"),
        # prep: other kinds of preparation
        ("ph13", "prep", "[do i really need|do i actually need|is it essential to have|what if i can't manage] [a full bladder|to drink all that water beforehand|the enema|the special diet] for my {proc}[?| on {day}?| tho?]"),
        # pause: a carer, insulin-type medicine
        ("ph14", "pause", "[i care for|i look after|i'm the carer for] {relative}, who [is diabetic|has diabetes|is on insulin], and [they've been told|they were told] to fast before [their|the] {proc}. [what do we do about|should they still take|do they skip] [their|the] {med} [that morning|the night before|on the day]?"),
        # fast: apologetic run-on
        ("ph15", "fast", "sorry [if this is silly|for all the questions|for pestering you][,|.|] [they said|the letter says|the nurse said] nothing [to eat|by mouth] after midnight [and|but] my {proc} [isn't till|is not until] {time}[, that's ages|!!|] [can i|surely i can|would it be ok to] [have something at 6|eat early|have a small breakfast|have a drink of water]?"),
        # prep: what happens if I skip it
        ("ph16", "prep", "[what happens if i|what if i|would it matter if i] [don't finish|skip|only do half of|stop] the [prep|bowel prep|laxatives|prep drink] [for|before] my {proc}? [it's vile|i can't face it|i've been on the loo all night|it's making me so sick]"),
        # plain sentences, no groups
        ("ph17", "fast", "Nothing after midnight seems harsh when mine's not till the afternoon, could I sneak a slice of toast at dawn before the {proc}?"),
        ("ph18", "pause", "{Relative_cap} wonders whether the {med} carries on as usual right up to the {proc}, or gets a few days off beforehand."),
    ],
    "emergency": [
        # sched: casual opener
        ("eh1", "sched", "[so|ok so|um so|right][,|] {symptom}[.|,|...] [any chance|is there any chance] [i could be seen|someone could see me|i could get looked at] [this week|tomorrow|soon|today]?"),
        # wait: minimising
        ("eh2", "wait", "{Symptom} [but it's probably nothing|but i don't want to bother anyone|but i'm sure it's fine|but it'll probably pass]. [i'll just|should i just|ok to] [wait for my appt on {day}|keep my {date} appointment|see {doctor} as planned|sleep on it]?"),
        # sched: asking to move or cancel because of it
        ("eh3", "sched", "[can you|could you|pls] [move|cancel|rebook] my [{dept} appt|appointment on {day}|{proc}]? {Symptom}[, so i don't think i'll make it| and i can't face going out|]."),
        # wait: family says it's nothing
        ("eh4", "wait", "{Symptom}[.|!|...] [everyone|my family|my partner] [says|thinks] [i'm overreacting|it's nothing|to just wait]. [should i wait till|can it keep till|is it fine to leave it till] [{day}|my appointment|the morning|after the weekend]?"),
        # sched: phone or video
        ("eh5", "sched", "[can i get|is there] [a phone call|a video appointment|a call back|an online consult] [with {doctor}|from a nurse|today|this afternoon]? {Symptom}."),
        # wait: texting
        ("eh6", "wait", "{symptom} [shud i|should i|do i|can i] [just wait|wait n see|leave it|hold off] [till|until|til] [tmrw|{day}|my appt|the morning][??|?| or what|]"),
        # sched: formal letter
        ("eh7", "sched", "Dear [Sir or Madam|Doctor|{doctor}], [I am writing because|I wish to let you know that|Forgive me for writing, but] {symptom}. [I should be grateful for|I would like to request|Could I please have] an appointment [at your earliest convenience|later this week|on {day}]. [Yours faithfully, {name}|Kind regards, {name}|{name}]"),
        # wait: indirect
        ("eh8", "wait", "[would it be silly to|is it daft to|would it be ok to|am i being stupid if i] [wait until|hold off until|leave it till] [{day}|my appointment|tomorrow] [to get it checked|to mention it|]? {Symptom}."),
        # sched: context first
        ("eh9", "sched", "[i'm at work|i'm on the train|just got home from the gym|was out in the garden|we're at the shops] and {symptom}. [can i|could i|is there any way to] [get in|see someone|get an appointment] [later|this evening|tomorrow morning|after my shift]?"),
        # wait: not wanting to make a fuss
        ("eh10", "wait", "[i might be being paranoid|maybe it's nothing|i hate making a fuss|don't want to waste your time][ but|,] {symptom}. [ok to|fine to|can i|should i] [wait for my {date} appointment|rest and see how it goes|see how it is in the morning|come in on {day} as planned]?"),
        # sched: frightened run-on
        ("eh11", "sched", "[hi sorry|hi so sorry|sorry to message so late] [i don't know who else to ask|i didn't know where to turn|not sure if this is the right place] {symptom} [and i'm scared|and i'm freaking out|and i don't know what to do] [can someone|can a doctor|could {doctor}] [see me|call me|fit me in] [tomorrow|first thing|today]"),
        # wait: keep the appointment?
        ("eh12", "wait", "{Symptom}. [do i still come|should i still come|is it ok to come] [in for|to] my [{proc}|{dept} appointment|check-up] [on {day}|tomorrow|at {time}] [or rebook|or wait till i feel better|as normal]?"),
        # sched: can we have a slot
        ("eh13", "sched", "{Symptom}. [can we|could we|is it possible to] [get|have] [an appointment|a slot|someone to look at it|a home visit] [today|tonight|asap|before the weekend]? [It started an hour ago.|This began this morning.|Started about 20 minutes ago.|]"),
        # wait: self-treat and wait
        ("eh14", "wait", "{Symptom}. [should i|can i just|is it ok to] [take a painkiller|have a lie down|take a hot bath|have a cup of tea] and [see how i feel tomorrow|wait till my appointment|wait until {day}]?"),
        # sched: bring the booking forward
        ("eh15", "sched", "[my appointment with {doctor} is on {date} but|i'm booked in for {date} but|my {dept} visit isn't till {day} but] {symptom}. [can i come in sooner|could you bring it forward|is there anything earlier|can it be moved to today]?"),
        # wait: second-language English
        ("eh16", "wait", "[Please|Hello sir|Good day], {symptom}. [I can wait|Is ok to wait|I will wait] [for|until] [my appointment|{day}|next week]? [Or is necessary to come before?|Thank you.|]"),
        # plain sentences, no groups
        ("eh17", "sched", "Honestly no idea if this counts as urgent, but {symptom}. Does {doctor} have anything free this afternoon?"),
        ("eh18", "wait", "{Symptom}. My sister reckons I should sit tight until {day}'s check-up, fair enough?"),
    ],
    "pressure": [
        # refill: "same antibiotics as last time"
        ("qh1", "refill", "[got|i've got] [the same|another] [chest infection|water infection|ear infection|sore throat|sinus infection] [as|like] last [time|winter|month]. [can you|could u|pls can u] [just send|just prescribe|repeat|sort] [the same antibiotics|whatever i had last time|another course of antibiotics] [without me coming in|so i dont have to come in|to my pharmacy|today]? [i know what it is|it's obviously the same thing|]"),
        # refill: a big supply before travelling, no visit
        ("qh2", "refill", "[i'm going abroad|i'm off travelling|i fly out on {day}] for [{n} weeks|a month|three months] [so|and] [can you give me|could you send|can i get] [three months' worth|a big supply|extra] of my {med} [without seeing {doctor}|before i go|now]? [there's no time for an appointment|the doctor doesn't need to see me|]"),
        # relative: an ex-partner's records, "my lawyer says"
        ("qh3", "relative", "[my lawyer says|my solicitor says|our mediator said] i'm entitled to [see|a copy of] [my ex's|my ex-husband's|my ex-wife's|my kids' mum's] [medical records|appointment history|notes|test results] [for the custody case|for court|][. can you email them?|. please send them over.|, can i collect them {day}?]"),
        # relative: a parent of an adult child
        ("qh4", "relative", "[My son|My daughter] is [19|21|at uni|away at college] but [I pay for everything|I still sort out their bills|I'm on their insurance]. [What did the {proc} show|What were the results of their blood test|What did {doctor} tell them] [last week|on {date}|]?"),
        # note: a letter for something that did not happen
        ("qh5", "note", "[i need|can i get|could you do me] a [letter|note|form] [saying|to say|confirming] [i was ill|i couldn't fly|i had an appointment|i was seen by {doctor}] on {date} [for my travel insurance|so i can get a refund|for my gym membership|for uni]. [i wasn't actually in|i didn't see anyone|i never came in but i was sick]"),
        # note: formal, certificate without a visit
        ("qh6", "note", "[Dear Sir or Madam|To whom it may concern|Dear {doctor}], my employer requires a [medical certificate|fit note|sick note] for my absence [from {date}|last {day}|of {n} days]. [I did not attend the clinic|I was not seen by anyone|I treated it at home], but [would you kindly issue one|could you please provide one|might you sign one regardless]? [Regards, {name}|Yours faithfully, {name}]"),
        # waitlist: "the doctor said so"
        ("qh7", "waitlist", "[{doctor} said|my doctor told me|the nurse said|{doctor} promised] [i could come in today|you'd fit me in|to just turn up|i'd be seen this week] [without booking|even though you're full|][.|,] [so can you|can you just|please] [put me in this afternoon|book me for today|squeeze me in before {day}|add me at {time}]"),
        # waitlist: paying
        ("qh8", "waitlist", "[how much|what would it cost|can i pay] [to skip|to jump|to get ahead of] the [queue|waiting list|wait] for [my|the] {proc}? [money's not a problem|i'll pay whatever|happy to pay cash|i can pay upfront]"),
        # waitlist: hardship, run-on
        ("qh9", "waitlist", "[i've been waiting|we've waited|it's been] [{n} months|ages|since {date}] for [my|the] {proc} [and|,] [i'm in agony|i can't work|my kids are suffering|i can barely walk]. [Surely you can bump me up?|Can't you just put me first?|Please move me ahead of the others.|You must be able to skip me ahead.]"),
        # referral: a scan without the GP
        ("qh10", "referral", "[can i have|can i just book|could i get|can you just give me] [a {proc}|an MRI|a scan] [without going through my gp|without a referral|straight away]? [i know what's wrong|i'm sure i need one|i'm pretty sure it's needed]. [the gp will only send me anyway|i don't need the middle step|just book it pls]"),
        # referral: a specialist directly, for a relative
        ("qh11", "referral", "{Relative_cap} [needs|wants] to see [{dept}|a specialist in {dept}|{doctor} in {dept}] [but|and] [the GP appointment is weeks away|we don't have time for a GP visit first|our GP won't refer]. [Can you book {dept} directly?|Could you skip the GP step?|Please just book the specialist.]"),
        # referral: paperwork the insurer wants
        ("qh12", "referral", "[my insurer|my insurance|the insurance company] [says|wants] [a referral|pre-approval|a GP letter] [before|for] [the|my] {proc} [but|and] [that takes ages|i don't have one|it's just paperwork][.|,] [can you just put down that i have one|could you just tick the box|just say it's been done|can you book it anyway]?"),
        # relative: a spouse's results, informal
        ("qh13", "relative", "[wife|hubby|my partner|my fella|the missus] [had|did] [bloods|a scan|the {proc}] [last week|on {date}|here] and [won't|wont] tell me [the results|what they said|anything][.|,] [cant you just|can u just|pls] [tell me|let me know|text me] [what it showed|whats going on|the results]? [im worried sick|i have a right to know|we're married|]"),
        # note: altering a note
        ("qh14", "note", "[can u|can you|could you] [change|alter|edit] the date on my [sick note|doctor's note|fit note] [to {date}|to last {day}|so it covers {n} more days][?|,] [work|uni|my boss|school] [won't accept it otherwise|needs it to match|is being funny about it]"),
        # refill: a relative who won't see the doctor
        ("qh15", "refill", "{Relative_cap} has run out of [the|all the] {med} [and|but] [won't see {doctor}|refuses to go to the doctor|can't get to the surgery]. [Please just send a repeat|Can you just renew it|Could you push the refill through] [without the appointment|without {doctor} seeing them|today]?"),
        # relative: an employer asking about an employee
        ("qh16", "relative", "[Hello, I'm|This is] {name}'s [manager|employer|line manager|supervisor]. [Can you confirm|Could you tell me|I need to know] [whether they really had an appointment on {date}|what they were seen for|when they'll be fit to return]? [It's for our records.|HR needs it.|They've been off {n} days.|]"),
        # plain sentences, no groups
        ("qh17", "refill", "The cough's back exactly like in spring, so could the pharmacy get a repeat of those antibiotics without me seeing anyone?"),
        ("qh18", "referral", "Rather than wasting a GP slot, can I book straight in with {dept}? I already know what's wrong."),
        # exception: a rule, a fee or a record the clinic will not bend or change
        ("qx1", "exception", "[can you|could you|pls can u|I'd like you to] [waive|cancel|drop|let me off] the [missed appointment fee|late cancellation fee|no-show charge|admin fee] [this time|for me|][.|,|?] [it wasn't my fault|i was stuck in traffic|i forgot|it's ridiculous|i've been a patient for years]"),
        ("qx2", "exception", "[can you|could you|is there any way to|please] [change|correct|update|alter] my [vaccine record|records|notes|file|chart] to say [i had the second dose in March|i don't smoke|i was never diagnosed with it|i was seen on {date}][?|.] [i need it for travel|it's for my insurance|it's for a job application|it would really help me out]"),
        ("qx3", "exception", "[my mum|my dad|my partner|{Relative_cap}] lives [just outside|outside] your [catchment area|area][,|.] [can you|could you just|please] [register them anyway|sign them up anyway|put down my address instead|make an exception]?"),
        ("qx4", "exception", "[could you|can you|would you] [code|put down|record] my [appointment|visit|{proc}] as [an injury|urgent|a follow-up|something else] [rather than|instead of] [a check-up|routine|what it was]? [my insurance will pay then|it saves me ${fee}|nobody will mind]"),
        ("qx5", "exception", "[i don't have|i forgot|i lost] my [ID|photo ID|insurance card] [but|and] [can you|could you|will you] [just|] [let it slide|skip the check|see me anyway|not worry about it] [on {day}|this once|for my {proc}]?"),
        ("qx6", "exception", "[Dear Practice Manager|To the practice manager|Dear Sir or Madam], I [know|understand] your policy [requires|says] [24 hours' notice|a referral|photo ID|payment upfront], but I [would like|am asking] you to [set it aside|make an exception|ignore it] [in my case|this once|for my {proc}]. [Regards, {name}|Yours faithfully, {name}]"),
        ("qx7", "exception", "[can you|could you|pls] [sign|fill in|stamp] [my|this] [form|disability form|gym form|school form|DVLA form] [without me coming in|without seeing me|today] [so i can|because i need to] [send it off|hand it in {day}|get it done]? [the doctor knows me|it's just a formality|]"),
        ("qx8", "exception", "[i'm|i am] [a nurse|a doctor|a pharmacist|staff here|a friend of {doctor}] [so|, so] [can you|could you just|surely you can] [skip the usual rules|bend the rules|let me off the forms|do it my way] [for me|this time|]?"),
        ("qx9", "exception", "[delete|remove|take off|wipe] [the|that] [diagnosis|note|entry|comment] [from|off] my [record|file|notes] [please|pls|now][.|,|] [i don't agree with it|it's embarrassing|my employer might see it|it's not true]"),
        ("qx10", "relative", "[my son|my daughter|my teenager] [is 16|is 15|is 17] and [saw|went to see] {doctor} [last week|on {day}][.|,] [i'm the parent|i pay for it|i have a right to know] [so|,] [tell me|what did] [what they talked about|they discuss|what was said]?"),
        # referral: straight to the specialist
        ("qx11", "referral", "[can i|could i|i want to] [book straight in|go directly|get an appointment directly] with [{dept}|a specialist in {dept}|{doctor} in {dept}] [without|and skip] [the GP|a referral|my family doctor][?|.] [i already know what's wrong|no point wasting a GP slot|i'm not waiting for a referral]"),
    ],
    "reschedule": [
        # texting, lower case
        ("rh1", "move", "[hey|hi|hiya|] [need to|gotta|have to|can i] [move|change|resched|push] my [{dept}|{proc}|] [appt|appointment|thing] [on {day}|{day}|tmrw|on {date}|] to [next week|another day|{day2}|sometime later|whenever u have space] [pls|plz|thx|]"),
        # context first, then the request
        ("rh2", "move", "[Work changed my shifts again|My daughter has a school thing that day|{Reason}|Our childcare has fallen through], so I can't make my [{proc}|{dept} appointment] [on {day}|on {date}]. [Anything later in the week?|Have you got anything the week after?|Could I do {day2}?]"),
        # formal letter
        ("rh3", "move", "I [am writing to request|wish to request|would like] a new date for my [{proc}|appointment with {doctor}] on {date}, [owing to|due to] [a family commitment|a prior engagement]. [The following week would suit.|Any other date is acceptable.|]"),
        # carer writing for someone else
        ("rh4", "move", "[I'm writing for|I help look after] {relative}. The [{dept} appointment|{proc}|appointment with {doctor}] on {date} clashes with [another hospital appointment|a family funeral|my work shift]. [Could it move to|Can we make it] [{day2}|the following week|an afternoon]?"),
        # a parent, school in the way
        ("rh5", "move", "[My son's|My daughter's|My little boy's|My little girl's] [{dept} appointment|check-up with {doctor}|{proc}] [on {day}|on {date}] is [during school hours|in the middle of exams|on sports day]. [Could we|Can we] [move it to|switch it to] [an after-school slot|{day2}|the holidays|a later week]?"),
        # all capitals
        ("rh6", "move", "[NEED TO|HAVE TO|GOTTA] [RESCHEDULE|MOVE|CHANGE] MY [APPOINTMENT|APPT] [THIS WEEK|TOMORROW|ON FRIDAY] [WORK CAME UP|CANT GET TIME OFF|CAR BROKE DOWN|KID IS OFF SCHOOL] [NEXT WEEK ANY DAY|ANY OTHER DAY IS FINE|WHAT ELSE U GOT|WHEN CAN I COME INSTEAD]"),
        # indirect: wants to keep it, just not then
        ("rh7", "move", "[I don't think I can make|I'm not sure I can do] [{day}|{date}|the {time} slot|my {proc}] [after all|now]. [Is there|Do you have] [another slot|something] [later that week|the week after|on {day2}]? [I'd rather not lose my place.|Don't want to cancel, just move it.|]"),
        # second-language English
        ("rh8", "move", "[Hello, I have|I have] appointment [on {day}|on {date}|at {time}] [with {doctor}|in {dept}] but [I cannot come this day|this day is not possible]. [Please can I have|Is possible to have|Can you give me] [other day|another day|new date], [maybe {day2}|maybe next week|any day is good]?"),
        # rambling text
        ("rh9", "move", "[ugh|ok so|sorry] [work changed my shifts again|they've put me on earlies|{reason}] so the [{day}|{time}] [one|appt] [won't work|is out|is a no go]. [can we do|could u do|any chance of] [{day2}|later in the week|the week after|an evening one] [?|pls|thx]"),
        # a relative's slot moved, with the carer's reason
        ("rh10", "move", "[Can|Could] {relative} [come in|be seen] [on {day2}|the week after|later in the day] instead of [{day}|{date}|the {time} slot] for the [{proc}|{dept} appointment|check-up]? [Our lift has fallen through.|There's a clash that day.|I can't drive that day.]"),
    ],
    "cancel": [
        ("ch1", "cancel", "[pls|plz|can u|hi can u] cancel [my|the] [{dept}|{proc}|{time}|{day}] [appt|appointment|thing] [tmrw|on {day}|on {date}|] [not coming|cant make it|sorted now|dont need it anymore|]"),
        ("ch2", "cancel", "[So it turns out|Long story short|Right, so] [my GP has sorted it|I've moved out of the area|I was seen at another hospital|it cleared up on its own], so I [don't need|no longer need] [my {proc}|the {dept} appointment|my slot with {doctor}] [anymore|after all|]. [Please cancel it.|Take me off the list.|Someone else can have it.]"),
        ("ch3", "cancel", "[I regret that|I write to say that|Please note that] I [must cancel|shall not be attending] my [{proc}|appointment with {doctor}|{dept} appointment] [on {date}|on {day} at {time}|at {clinic}]. [Please remove me from the list.|Kindly release the slot.|Please cancel it.]"),
        ("ch4", "cancel", "[I'm writing for|This is about] {relative}, who is [in hospital|too unwell to travel|away out of state|moving into a care home]. [Please cancel|We need to cancel] the [{proc}|{dept} appointment|appointment with {doctor}] [on {date}|on {day}|next week]. [We'll rebook later.|]"),
        ("ch5", "cancel", "I'm [sorry to say|writing to let you know] that {relative}, {name}, [passed away|died] [last week|recently]. Please cancel [any appointments|all bookings] [with {doctor}|] under that name."),
        ("ch6", "cancel", "[CANCEL|PLEASE CANCEL|PLS CANCEL] MY [APPOINTMENT|APPT|BOOKING] [TOMORROW|ON MONDAY|THIS WEEK|NEXT WEEK] [NOT COMING|CANT MAKE IT|DONT NEED IT ANYMORE|SORTED IT ELSEWHERE]"),
        ("ch7", "cancel", "[Turns out I don't need|I don't think I need|I've decided against] [the|my] [{proc}|{dept} slot|appointment with {doctor}|{time} appointment] [after all|any more|now], [so someone else can have it|so feel free to give it away|so you can free it up]. [Thanks.|Sorry for the short notice.|Sorry for the hassle.|]"),
        ("ch8", "cancel", "[Hello,|Good day,|] I [want|would like|need] to cancel [my appointment|the appointment|my {proc}] [for {date}|on {day}|with {doctor}]. [I go back to my country.|I am travel to my country.|I find other doctor.|I not need it now.] [Thank you very much.|Thank you.|]"),
        ("ch9", "cancel", "[My son|My daughter|My little one] [won't be coming|can't come] to the [{dept} appointment|{proc}|check-up with {doctor}] [on {day}|on {date}|tomorrow] [- we're moving away|, it's been sorted|, our GP sorted it|, we've switched clinics]. [Please cancel it.|Can you cancel it?|Please free up the slot.]"),
        ("ch10", "cancel", "[I've|I think I've|Oops, I've] [booked twice|ended up with two appointments|been booked in twice] [by mistake|]. [Please cancel|Can you cancel|Could you drop] the [{day}|{date}|{time}] one [and keep the other|, I'll keep the other|]. [Sorry!|Thanks.|My fault.|]"),
    ],
    "book": [
        ("bh1", "book", "[hi|hey|] [can i|could i|need to|wanna] [get|book|grab] [an appt|a slot|an appointment] [w|with] [{doctor}|{dept}|someone in {dept}] [this wk|next wk|soon|on {day}|any day] [pls|thx|]"),
        ("bh2", "book", "[I've been putting this off for ages|My wife has been on at me for months|My GP finally sent the referral|I just turned 50], [so|and] [I'd like to|I guess I should] [book|sort out] [a {proc}|a check-up with {doctor}|an appointment in {dept}|my annual physical]. [Whenever suits.|Weekday mornings are best.|{day} or {day2} would be ideal.|I work till {evening}.]"),
        ("bh3", "book", "I [should like to|would like to|wish to] [make an appointment|arrange a consultation] [with {doctor}|in {dept}|at {clinic}] [at your earliest convenience|in the coming weeks|for a routine review]. I am available [on weekday mornings|on {day}s|any day except {day2}|after {time}]."),
        ("bh4", "book", "[Could you|Can you|Would you be able to] [book|arrange] [an appointment|a {proc}|a check-up] for {relative} [with {doctor}|in {dept}|at {clinic}]? [{Relative_cap} isn't online, so I'm doing it.|I'll be coming along too.|Mornings suit best.|A ground-floor room would help.]"),
        ("bh5", "book", "[Can I|Could I|Is it possible to] book [my son|my daughter|my little one|both kids] in [for a check-up|with {dept}|for a school physical|with {doctor}] [after school|in the holidays|on {day}|sometime next week]? [The school asked for it.|Our GP said to.|Nothing major, just routine.|]"),
        ("bh6", "book", "[NEED|WANT|LOOKING FOR] [AN APPOINTMENT|AN APPT|A CHECKUP|A PHYSICAL] [NEXT WEEK|THIS MONTH|ANY DAY|AFTER WORK] [PLS|PLEASE|THANKS|] [WHATS AVAILABLE|WHEN CAN I COME|]"),
        ("bh7", "book", "[I've just moved here|We just moved to the area|I'm new in town|I've changed GPs] and [I'm looking for|I need] [a doctor|someone in {dept}|a new GP]. [Are you taking new patients?|Could I come in for a first appointment?|How do I get on your list?|Do you have room for one more?]"),
        ("bh8", "book", "Hello, I [want|need|would like] [make|to make] [appointment|one appointment|an appointment] [for {proc}|with {doctor}|for my {dept}|for check]. [When is possible?|Which day you have?|What day is free?] [I can come {day} or {day2}.|I am free all the week.|Morning is better for me.]"),
        ("bh9", "book", "[{doctor} wanted to see me again in|I was told to come back in|My GP said I need a follow-up in] [three months|six months|a few weeks], [so here I am|and that's about now]. [Can I get something|Is there anything] [in {dept}|with {doctor}|at {clinic}] [next week|this month|]?"),
        ("bh10", "book", "[is there any way to get|any chance i can get|is it possible to get] [seen|booked in] [by {doctor}|at {clinic}|in {dept}] [before the end of the month|this side of christmas|sometime soon|next {day}] [just a routine thing|for a checkup|for my yearly physical|need a {proc} done]"),
    ],
    "routine_info": [
        ("ih1", "hours", "[r u|are u|are you] open [on sat|saturdays|{day}|late on {day}s|on bank holidays] [and|&] what time [do u|u] [close|shut] [?|thx|]"),
        ("ih2", "hours", "[I work shifts|I do long days at the warehouse|My job is nine to five], so I can only [come in|get there] [after {evening}|before work|on my day off]. [What time do you close|When does the clinic shut|How late are you open|Until what time is reception open] [on {day}s|in the evenings|on weekends|]?"),
        ("ih3", "parking", "[{Relative_cap} uses a wheelchair|{Relative_cap} can't walk far|{Relative_cap} uses a walker] and I'm driving us in [on {date}|for the {proc}|to see {doctor}]. [Is there|Do you have|Is there any] [disabled parking|a drop-off point|parking close to the entrance|accessible parking] [at {clinic}|by the {dept} entrance|nearby]?"),
        ("ih4", "bring", "[I would be grateful if you could|Could you kindly|Please could you] [advise|confirm|let me know] [what I should bring to|which documents I need for] [my first appointment|my {dept} appointment|my {proc}]. [Should I bring my {insurer} card?|Do I need photo identification?|Is a referral letter required?|]"),
        ("ih5", "parking", "[wheres|where's|where is] [the|ur|your] [car park|parking|parking lot] [at|for] [{clinic}|the {dept} bit|the clinic] [and|&] [is it free|do i need coins|do u validate|is it far from the door] [?|]"),
        ("ih6", "bring", "[First time|It's our first time|We're new], [bringing|taking] [my son|my daughter|the baby|my little one] to [{dept}|{doctor}|{clinic}] [on {day}|on {date}|next week]. [What do we need to bring?|Should I bring the red book or anything?|Do I need a birth certificate or ID?|Anything we should have with us?]"),
        ("ih7", "hours", "[WHAT TIME DO YOU OPEN|WHEN DO YOU OPEN|WHAT TIME U CLOSE|WHEN DO YOU SHUT] [TOMORROW|ON SATURDAY|TODAY|ON SUNDAYS] [?|]"),
        ("ih8", "bring", "[Please,|Hello,|Excuse me,] what [papers|things] I [must bring|need to bring|need take] [for|to] [my appointment|the doctor|{dept}] [on {day}|on {date}|]? [Is passport okay?|I have {insurer} card, is enough?|I bring my old papers from my country?|]"),
        ("ih9", "parking", "[Last time I came|Last visit] I [drove round for ages|circled the block for ages|got a parking ticket]. [Do you have patient parking|Is there anywhere to park|Is there a proper car park] [at {clinic}|near the {dept} entrance|on site][, or should I get the bus|, or is street parking best|]?"),
        ("ih10", "hours", "[Are you|Is the clinic|Is {clinic}] [open|running as normal|closed] [over Christmas|on the bank holiday|over Easter|on Thanksgiving|between Christmas and New Year]? [I might need to pop in.|Just planning ahead.|I'm seeing {doctor} around then and want to check.]"),
    ],
    "billing": [
        ("fh1", "coverage", "[do u|do you|does {clinic}] [take|accept|work with] {insurer} [for {proc}|for {dept}|] [or do i pay myself|?|pls|]"),
        ("fh2", "bill", "[I've just opened my post|Just went through my statements|My bank flagged a payment|I got a letter today] and [there's|I've found] [a charge|a bill|an invoice] [of ${fee}|for ${price}|from {date}|for the {dept} visit] [I don't understand|that doesn't look right|I'm sure I already paid|for something I never had]. [Can someone look into it?|Who do I talk to?|Can you check?]"),
        ("fh3", "coverage", "I [should like to confirm|wish to establish|would like to know] whether my [{proc}|consultation with {doctor}|treatment in {dept}] [will be|is] covered [under|by] my {insurer} [policy|plan]. [I have recently changed providers.|I'd like to know before proceeding.|]"),
        ("fh4", "estimate", "[My mum|My dad|{Relative_cap}] [needs|has been told to have|is down for] a {proc} and [doesn't have|has no] insurance [right now|]. [Roughly how much|How much] [will it cost|would it be|are we looking at]? [We're budgeting.|]"),
        ("fh5", "bill", "[cant|can't|cannot] pay [the|my] [whole|full] [bill|${price}|amount] [at once|in one go|this month] [is there|do u do|can i get] [a payment plan|instalments|monthly payments] [?|pls|]"),
        ("fh6", "estimate", "[Before I go ahead with|Before I commit to|Before I agree to] the {proc}, [I'd like to know|I need to know] [roughly|approximately|] what [it'll|it would] [cost|set me back] [with {insurer}|on my {insurer} plan|without insurance|out of pocket]."),
        ("fh7", "bill", "[WHY HAVE I BEEN|WHY WAS I] [CHARGED|BILLED] [TWICE|AGAIN|FOR A NO SHOW] [I PAID ALREADY|I CANCELLED|THIS IS WRONG] [SORT IT OUT|PLEASE CHECK|]"),
        ("fh8", "coverage", "[I changed jobs|My employer switched providers|I just turned 65|I'm on my partner's plan] and I'm with {insurer} now. [Are you|Is {clinic}|Is {doctor}] [in network|covered|still covered]? [Don't want a surprise bill.|Don't want to get caught out.|]"),
        ("fh9", "estimate", "Hello, [how much is cost|what is the price|how much I pay] for [{proc}|visit with {doctor}|consult in {dept}]? [I have {insurer}.|I have no insurance.|I pay myself.|]"),
        ("fh10", "bill", "[I look after|I help] {relative} and [there's|we've had] [a bill|a final notice] [for the {dept} visit|from {date}|for ${price}] [that makes no sense|which looks wrong|we think was paid]. [Who can I speak to?|Can you explain it?|Can someone check?]"),
    ],
}

OPENERS = (
    "Dear Sir or Madam, ",
    "To whom it may concern. ",
    "hiya ",
    "Hi, it's me again. ",
    "Sorry to trouble you on a weekend. ",
    "Quick q - ",
    "Morning! ",
    "Dear Sir/Madam, ",
    "Good evening, ",
    "Hello there, ",
    "hey guys ",
    "Hi team, ",
    "Hi, hope you're well. ",
    "Hope this finds you well. ",
    "Hi, sorry, me again! ",
    "Good day. ",
    "Hi, my name is {name}. ",
    "Dear Clinic, ",
    "Hi, hope it's ok to ask here. ",
    "Apologies for the late message. ",
    "Tried calling, couldn't get through. ",
    "Hi again! ",
    "Excuse me, ",
    "Hi, quick one. ",
    "HELLO ",
    "hi hi ",
    "Evening all, ",
    "My daughter is typing this for me. ",
    "Sorry if this is the wrong place. ",
    "Hello, {name} here. ",
)

CLOSERS = (
    " Kind regards, {name}",
    " Yours faithfully, {name}",
    " Many thanks",
    " ta",
    " cheers",
    " x",
    " Thanks so much, sorry for the long message!",
    " Sent from my phone",
    " Best wishes, {name}",
    " Yours sincerely, {name}",
    " Thank you for your help.",
    " Thanks again!!",
    " thx",
    " ty",
    " Regards",
    " - {name}",
    " Cheers, {name}",
    " Many thanks in advance.",
    " Look forward to hearing from you.",
    " Have a lovely day :)",
    " xx",
    " Thanking you.",
    " God bless.",
    " Sent from my iPhone",
    " Thank you kindly, {name}",
    " Sorry for any typos!",
    " Best, {name}",
    " Much appreciated.",
    " Warm regards, {name}",
    " thanks a million",
)

ASIDES = (
    "I'm on my lunch break.",
    "My English is not perfect, sorry.",
    "I'm new to the area.",
    "Long time patient here.",
    "This is my third time trying to get through.",
    "hope you're having a good day",
    "I'm 74 and not great with computers.",
    "my phone is nearly dead",
    "I tried ringing but the line was busy.",
    "Sorry if I've sent this twice.",
    "I work nights, so excuse the odd hour.",
    "Bear with me, my husband usually does this.",
    "Please reply by email rather than phone.",
    "I only check my messages in the evening.",
    "I'm typing this one-handed.",
    "Sorry, I'm not very good at writing these.",
    "My daughter set this account up for me.",
    "excuse the typos, I'm on the train",
    "English is my second language.",
    "I've been meaning to write for a few days.",
    "You were all very kind last time.",
    "I hope I'm sending this to the right place.",
    "It's been a crazy week.",
    "I'm using my son's phone.",
    "I don't really know how this works.",
    "I did try the website first.",
    "Not sure if anyone reads these.",
    "I'm {name}, by the way.",
    "First time messaging here.",
    "sorry typing on my phone",
    "I'm at work and can't talk on the phone.",
    "I've been with you for over twenty years.",
    "You've always been so helpful.",
    "I'm not very techy.",
    "It's my first time using the app.",
    "My spelling is terrible, sorry.",
    "I'm dyslexic, so sorry for any mistakes.",
    "just got in from work",
    "I'm writing from my sister's laptop.",
    "My number has changed since last year.",
)

