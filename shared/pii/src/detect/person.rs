//! People's names without a cue like "my name is": capitalised words found in a gazetteer of first names and
//! surnames (the 1990 U.S. Census lists, `shared/pii/data/`), read with their context.
//!
//! - Two to four capitalised gazetteer words in a row ("Rosa Delgado", "María José Ibarra"), at least one of them not
//!   an ordinary word too, the first a first name or the last a surname: a name.
//! - One gazetteer word: a name after a salutation, a title or a relation ("Dear Rosa", "Dr. Okafor", "my son
//!   Tomás", "Patient: Delgado"), or a first name inside a sentence ("can Maria pick it up?") that is not also an
//!   ordinary word.
//! - Never: words the plan's own vocabulary uses ("Medicare Advantage", "SCAN Classic"), places ("San Diego", "Long
//!   Beach", "Half Moon Bay"), calendar words unless a name follows ("in June", but "June Kowalczyk"), occasions
//!   ("Valentine's Day"), and, unless cued, words after an article, a possessive or "in" ("the Salvation Army", "la
//!   Luz", "in Palo Alto") or right before a noun such as "account" ("Chase account").
//! - Also: names typed in lower case ([`lowercase`]), a name signing off a message ([`sign_off`]), and each name
//!   grown over its middle initials, surname particles, a comma-separated given name or surname, and a given name
//!   joined by "and" ([`complete`]).

mod complete;
mod cues;
mod lowercase;
mod sign_off;

pub use cues::{WORD_CUES, WordCues, word_cues};

use foldhash::fast::FixedState;
use std::collections::HashSet;
use std::sync::LazyLock;

use crate::{Detection, Kind};

/// A word list in a hash set with a fast, fixed-seed hash: the 55,000 names load at cold start, and every
/// capitalised word of a message is looked up several times.
struct WordList(HashSet<&'static str, FixedState>);

impl WordList {
    fn new(words: impl Iterator<Item = &'static str>) -> Self {
        let (lower, _) = words.size_hint();
        let mut set = HashSet::with_capacity_and_hasher(lower, FixedState::default());
        set.extend(words.filter(|w| !w.is_empty()));
        Self(set)
    }

    /// One word a line, as the data files are written.
    fn lines(text: &'static str) -> Self {
        let mut list = Self::new(text.lines().map(str::trim));
        list.0.shrink_to_fit();
        list
    }

    fn contains(&self, word: &str) -> bool {
        self.0.contains(word)
    }
}

struct Gazetteer {
    first: WordList,
    last: WordList,
    ambiguous: WordList,
    /// [`NEVER`] and [`cue_words`], hashed: every capitalised word is looked up in them.
    never: WordList,
    cues: WordList,
    /// Words the plan and the Spanish glossary use in lower case: ordinary words, not names.
    common: WordList,
}

static GAZETTEER: LazyLock<Gazetteer> = LazyLock::new(|| Gazetteer {
    first: WordList::lines(include_str!("../../data/first-names.txt")),
    last: WordList::lines(include_str!("../../data/surnames.txt")),
    ambiguous: WordList::lines(include_str!("../../data/ambiguous-names.txt")),
    common: WordList::lines(include_str!("../../data/common-words.txt")),
    never: WordList::new(NEVER.iter().chain(CALENDAR).copied()),
    cues: WordList::new(cue_words()),
});

/// Greetings, relations and sign-offs: a capitalised word right after one is a name, in the gazetteer or not ("Dear
/// Zainab", "my roommate Sergei", "Thanks, Gloria").
const INTRODUCERS: &[&str] = &[
    "dear",
    "hi",
    "hello",
    "hey",
    "hola",
    "estimado",
    "estimada",
    "querido",
    "querida",
    "wife",
    "husband",
    "son",
    "daughter",
    "mother",
    "father",
    "mom",
    "dad",
    "brother",
    "sister",
    "grandson",
    "granddaughter",
    "roommate",
    "partner",
    "aunt",
    "uncle",
    "cousin",
    "niece",
    "nephew",
    "son-in-law",
    "daughter-in-law",
    "mother-in-law",
    "father-in-law",
    "brother-in-law",
    "sister-in-law",
    "stepson",
    "stepdaughter",
    "grandma",
    "grandpa",
    "caregiver",
    "neighbor",
    "neighbour",
    "friend",
    "esposa",
    "esposo",
    "hijo",
    "hija",
    "madre",
    "padre",
    "mamá",
    "papá",
    "hermano",
    "hermana",
    "nieto",
    "nieta",
    "vecino",
    "vecina",
    "amigo",
    "amiga",
    "sincerely",
    "regards",
    "thanks",
    "atentamente",
    "saludos",
    "gracias",
];
/// Labels a name follows after a colon ("Patient: Oluwaseun Adeyemi").
const LABELS: &[&str] = &[
    "patient", "paciente", "name", "nombre", "member", "afiliado", "afiliada",
];
/// Other words before a gazetteer name that make it one. Not enough for a word outside the gazetteer: "a drug called
/// Ozempic", "the name of Lipitor".
const OTHER_CUES: &[&str] = &[
    "dr",
    "doctor",
    "doctora",
    "dra",
    "mr",
    "mrs",
    "ms",
    "miss",
    "sr",
    "sra",
    "srta",
    "don",
    "doña",
    "nurse",
    "enfermera",
    "enfermero",
    "thank",
    "signed",
    "firma",
    "attn",
    "cc",
    "named",
    "called",
    "llamado",
    "llamada",
    "beneficiary",
    "beneficiario",
    "beneficiaria",
    "insured",
    "asegurado",
    "asegurada",
    "subscriber",
    "cardholder",
];

/// Words before a single name that make it a name: salutations, titles, relations, labels, sign-offs.
fn cue_words() -> impl Iterator<Item = &'static str> {
    INTRODUCERS.iter().chain(LABELS).chain(OTHER_CUES).copied()
}

/// Whether token `at` is introduced as a name: right after a greeting, sign-off or relation, or after a label and a
/// colon.
fn introduced(text: &str, all: &[Token], at: usize) -> bool {
    let Some(before) = at.checked_sub(1).map(|i| &all[i]) else {
        return false;
    };
    let word = before.word.to_lowercase();
    let between = text[before.end..all[at].start].trim();
    // "Good morning Arash,": a greeting of two words.
    let greeting = matches!(word.as_str(), "morning" | "afternoon" | "evening")
        && at >= 2
        && all[at - 2].word.eq_ignore_ascii_case("good");
    ((INTRODUCERS.contains(&word.as_str()) || greeting) && matches!(between, "" | ","))
        || (LABELS.contains(&word.as_str()) && between == ":")
}

/// A hyphenated word every part of which is a name: "Kerry-Ann", "Mei-Ling", "Garcia-Lopez".
fn hyphenated_name(word: &str) -> bool {
    let gazetteer = &*GAZETTEER;
    word.contains('-')
        && word.split('-').all(|part| {
            let key = folded(part);
            key.len() >= 2 && (gazetteer.first.contains(key.as_str()) || gazetteer.last.contains(key.as_str()))
        })
}

/// A letter of a name, or the hyphen or apostrophe inside one ("Asante-Boateng", "O'Brien").
fn name_char(c: char) -> bool {
    c.is_alphabetic() || matches!(c, '-' | '\'' | '’')
}

/// Whether a possessive "'s" follows `token` (which [`bare`] cut off it).
fn possessive(text: &str, token: &Token) -> bool {
    let after = &text[token.end..];
    after.starts_with("'s") || after.starts_with("’s")
}

/// Whether token `at` owns a relation: "Lakshmi's son", "Darnell’s doctor". Only a person has a son or a doctor.
fn owns_a_relation(text: &str, all: &[Token], at: usize) -> bool {
    possessive(text, &all[at])
        && all.get(at + 1).is_some_and(|next| {
            let word = next.word.to_lowercase();
            INTRODUCERS.contains(&word.as_str()) || matches!(word.as_str(), "doctor" | "doctors" | "caregiver")
        })
}

/// Titles: the capitalised word after one is a name, in the gazetteer or not.
const TITLES: &[&str] = &[
    "dr", "dra", "mr", "mrs", "ms", "sr", "sra", "srta", "doctor", "doctora", "don", "doña",
];

/// Months and weekdays in English and Spanish, folded: never part of a person's name here either.
const CALENDAR: &[&str] = &[
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "lunes",
    "martes",
    "miercoles",
    "jueves",
    "viernes",
    "sabado",
    "domingo",
    "enero",
    "febrero",
    "marzo",
    "abril",
    "mayo",
    "junio",
    "julio",
    "agosto",
    "septiembre",
    "octubre",
    "noviembre",
    "diciembre",
];

/// Whether `word` is a month or a weekday, in any case or accent ("April", "miércoles").
pub fn is_calendar_word(word: &str) -> bool {
    CALENDAR.contains(&folded(word).as_str())
}

/// Capitalised words that are never part of a person's name here: the plan's vocabulary, places, and (with
/// [`CALENDAR`]) calendar words.
const NEVER: &[&str] = &[
    "medicare",
    "medicaid",
    "advantage",
    "original",
    "scan",
    "classic",
    "plan",
    "health",
    "part",
    "services",
    "service",
    "member",
    "members",
    "county",
    "city",
    "beach",
    "valley",
    "hills",
    "park",
    "street",
    "st",
    "avenue",
    "ave",
    "road",
    "rd",
    "lane",
    "drive",
    "boulevard",
    "blvd",
    "way",
    "bay",
    "springs",
    "heights",
    "lake",
    "island",
    "river",
    "harbor",
    "airport",
    "station",
    "plaza",
    "hospital",
    "clinic",
    "center",
    "centre",
    "medical",
    "pharmacy",
    "california",
    "ca",
    "san",
    "santa",
    "los",
    "las",
    "el",
    "la",
    "del",
    "de",
    "fort",
    "mount",
    "new",
    "north",
    "south",
    "east",
    "west",
    "university",
    "tier",
    "extra",
    "help",
    "social",
    "security",
    "christmas",
    "easter",
    "god",
    "dios",
    "jesus",
    "the",
    "and",
    "or",
    "but",
    "i",
    "yo",
    "a",
    "an",
    "un",
    "una",
    "my",
    "mi",
    "your",
    "tu",
    "su",
    "our",
    "this",
    "that",
];

/// Words before a capitalised run that make it a thing, not a person: "the Salvation Army", "la Luz". Not "a", which
/// is also Spanish's personal "a": "díganle a Maricela Ontiveros".
const DETERMINERS: &[&str] = &[
    "the", "an", "this", "that", "my", "your", "our", "el", "la", "los", "las", "un", "una", "mi", "tu", "su",
];

/// Lower-case nouns a brand or a place names directly and a person's name never does without a possessive: "Chase
/// account", "Silver Sneakers classes" (but "Rosa's account").
const THINGS: &[&str] = &[
    "account",
    "accounts",
    "card",
    "cards",
    "class",
    "classes",
    "program",
    "programs",
    "app",
    "website",
    "store",
    "stores",
    "branch",
    "location",
    "locations",
    "membership",
    "cuenta",
    "tarjeta",
    "clases",
    "programa",
    "tienda",
];

/// Words joining an institution to its own name: "Hospital de Stanford", "University of the Pacific".
const NAMING_PARTICLES: &[&str] = &["de", "del", "of", "la", "las", "los", "the"];

/// Whether `word` is a particle that joins an institution's name to what follows ("Hospital de Stanford"), or a
/// surname's parts ("María de la Cruz").
pub fn is_naming_particle(word: &str) -> bool {
    NAMING_PARTICLES.contains(&word.to_lowercase().as_str())
}

/// Institutions named after a place or a person of the past: what follows "Hospital de" is the hospital's name.
const INSTITUTIONS: &[&str] = &[
    "hospital",
    "hospitals",
    "clinic",
    "clinica",
    "center",
    "centre",
    "centro",
    "medical",
    "medico",
    "pharmacy",
    "farmacia",
    "university",
    "universidad",
    "college",
];

/// Whether the words right before byte `start` of `text` are a capitalised institution word ("Hospital", "Clinic",
/// "University", "Medical") and one or two joining particles, in the same sentence: what follows names the
/// institution, not a person ("Hospital de Stanford", "University of the Pacific"). A surname's own particles follow a
/// given name, never such a word ("María de la Cruz"), and a plan word is no institution ("el número de Medicare de
/// Juan Pérez").
pub fn after_a_place_and_particle(text: &str, start: usize) -> bool {
    let before = text.get(..start).unwrap_or_default();
    let mut particles = 0;
    for raw in before.split_whitespace().rev() {
        // A sentence's end between them: "…Medical Center. The Lopez family…".
        if raw.ends_with(['.', '?', '!', ':', ';']) {
            return false;
        }
        let word = raw.trim_matches(|c: char| !c.is_alphanumeric());
        if NAMING_PARTICLES.contains(&word.to_lowercase().as_str()) && particles < 2 {
            particles += 1;
            continue;
        }
        return particles > 0
            && word.chars().next().is_some_and(char::is_uppercase)
            && INSTITUTIONS.contains(&folded(word).as_str());
    }
    false
}

/// Words before a capitalised run that make it a place: "in Austin", "near Carson", "en Pico Rivera".
const LOCATORS: &[&str] = &["in", "near", "around", "outside", "throughout", "en"];

/// Words after "'s" that make the run before it an occasion: "Valentine's Day", "New Year's Eve".
const OCCASIONS: &[&str] = &["Day", "Eve", "Night", "Week"];

/// Whether the run `start..end` is an occasion, or the day of one: "Valentine's Day", "New Year's Eve".
fn an_occasion(text: &str, all: &[Token], start: usize, end: usize) -> bool {
    let names_an_occasion =
        possessive(text, &all[end - 1]) && all.get(end).is_some_and(|next| OCCASIONS.contains(&next.word));
    let day_of_one = start > 0
        && all[start - 1].capital
        && possessive(text, &all[start - 1])
        && OCCASIONS.contains(&all[start].word);
    names_an_occasion || day_of_one
}

/// Calendar words that are first names too: a name when a known name follows ("Julio César Ybarra", "June Park").
const CALENDAR_NAMES: &[&str] = &["april", "may", "june", "julio", "august", "domingo"];

/// Lowercase particles inside a surname: "de la Rosa", "van der Berg".
const PARTICLES: &[&str] = &[
    "de", "la", "del", "las", "los", "van", "von", "der", "den", "da", "di", "du", "le", "al",
];

#[derive(Debug, Clone)]
struct Token<'a> {
    word: &'a str,
    start: usize,
    end: usize,
    /// Capitalised (a name can only be one).
    capital: bool,
    /// The folded spelling, for capitalised words only: computed once, looked up many times.
    key: String,
}

impl<'a> Token<'a> {
    fn new(word: &'a str, start: usize) -> Self {
        let capital = capitalised(word);
        Self {
            word,
            start,
            end: start + word.len(),
            capital,
            key: if capital { folded(word) } else { String::new() },
        }
    }
}

/// A word without its trailing apostrophes, hyphens and possessive ("Haddad's" → "Haddad").
fn bare(word: &str) -> &str {
    let word = word.trim_end_matches(['\'', '’', '-']);
    word.strip_suffix("'s")
        .or_else(|| word.strip_suffix("’s"))
        .unwrap_or(word)
}

fn tokens(text: &str) -> Vec<Token<'_>> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        let inside = c.is_alphabetic() || ((c == '\'' || c == '’' || c == '-') && start.is_some());
        match (inside, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                out.push(Token::new(bare(&text[s..i]), s));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push(Token::new(bare(&text[s..]), s));
    }
    out
}

/// Lowercase, accents removed: the gazetteer's spelling.
fn folded(word: &str) -> String {
    word.chars()
        .flat_map(char::to_lowercase)
        .map(|c| match c {
            'á' | 'à' | 'ä' | 'â' => 'a',
            'é' | 'è' | 'ë' | 'ê' => 'e',
            'í' | 'ì' | 'ï' | 'î' => 'i',
            'ó' | 'ò' | 'ö' | 'ô' => 'o',
            'ú' | 'ù' | 'ü' | 'û' => 'u',
            'ñ' => 'n',
            'ç' => 'c',
            other => other,
        })
        .filter(|c| c.is_alphabetic())
        .collect()
}

fn capitalised(word: &str) -> bool {
    let mut chars = word.chars();
    chars.next().is_some_and(char::is_uppercase) && word.chars().count() >= 2
}

/// Only spaces (at most one line break) between two tokens: they belong to one name.
fn adjacent(text: &str, left: &Token, right: &Token) -> bool {
    let between = &text[left.end..right.start];
    !between.is_empty() && between.chars().all(|c| c == ' ') && between.len() <= 2
}

/// Whether the token starts a sentence: nothing but spaces or quotes since the last full stop, line or start.
fn sentence_start(text: &str, token: &Token) -> bool {
    text[..token.start]
        .chars()
        .rev()
        .find(|c| !matches!(c, ' ' | '"' | '\'' | '“' | '(' | '¿' | '¡' | '*' | '-'))
        .is_none_or(|c| matches!(c, '.' | '!' | '?' | '\n' | ':' | ';'))
}

/// Whether a cue word comes right before token `at`, or one lowercase word before that ("thank you Maria"); not
/// across another capitalised word ("Nurse Advice Line").
fn cued(all: &[Token], at: usize) -> bool {
    let cue = |token: &Token| GAZETTEER.cues.contains(token.word.to_lowercase().as_str());
    match at {
        0 => false,
        1 => cue(&all[0]),
        _ => cue(&all[at - 1]) || (!all[at - 1].capital && cue(&all[at - 2])),
    }
}

pub fn find(text: &str) -> Vec<Detection> {
    let gazetteer = &*GAZETTEER;
    let all = tokens(text);
    let known = |token: &Token| {
        let word = &token.key;
        token.capital
            && !gazetteer.never.contains(word.as_str())
            && !gazetteer.cues.contains(word.as_str())
            && (gazetteer.first.contains(word.as_str())
                || gazetteer.last.contains(word.as_str())
                || hyphenated_name(token.word))
    };
    let mut found = Vec::new();
    let mut i = 0;
    while i < all.len() {
        // A month or weekday that is a first name too starts a name when a known name follows it.
        let calendar_name = all[i].capital
            && CALENDAR_NAMES.contains(&all[i].key.as_str())
            && all
                .get(i + 1)
                .is_some_and(|next| known(next) && adjacent(text, &all[i], next));
        if !known(&all[i]) && !calendar_name {
            // After a title, any capitalised name: "Dr. Okafor", "Sra. Nwachukwu". After a relation, a salutation or
            // a label, any capitalised word that is no ordinary word: "my roommate Sergei", "Dear Zainab".
            let titled = i > 0 && TITLES.contains(&all[i - 1].word.to_lowercase().as_str());
            let plain_word = |token: &Token| token.capital && !gazetteer.never.contains(token.key.as_str());
            // Written like a name: capitalised, letters, some in lower case ("ID", "SCN" and "HMO" are no names).
            let unusual = |token: &Token| {
                plain_word(token)
                    && token.word.chars().count() >= 3
                    && token.word.chars().all(name_char)
                    && token.word.chars().any(char::is_lowercase)
                    && !gazetteer.cues.contains(token.key.as_str())
                    && !gazetteer.common.contains(token.key.as_str())
            };
            let introduced = (introduced(text, &all, i) || owns_a_relation(text, &all, i)) && unusual(&all[i]);
            // Two such words in a row, neither a dictionary, plan or place word: a name the census lists lack
            // ("Dmitri Volkov", "Kwame Asante-Boateng").
            // Not beside a place word: "Half Moon Bay".
            let place_after = |at: usize| {
                all.get(at + 1).is_some_and(|next| {
                    next.capital && adjacent(text, &all[at], next) && gazetteer.never.contains(next.key.as_str())
                })
            };
            let set_off = i > 0 && {
                let before = all[i - 1].word.to_lowercase();
                DETERMINERS.contains(&before.as_str()) || LOCATORS.contains(&before.as_str())
            };
            let paired = i + 1 < all.len()
                && !set_off
                && unusual(&all[i])
                && unusual(&all[i + 1])
                && adjacent(text, &all[i], &all[i + 1])
                && !place_after(i + 1);
            if (titled && plain_word(&all[i])) || introduced || paired {
                let mut j = i + 1;
                while j < all.len() && j - i < 3 && plain_word(&all[j]) && adjacent(text, &all[j - 1], &all[j]) {
                    j += 1;
                }
                found.push(Detection {
                    kind: Kind::Name,
                    start: all[i].start,
                    end: all[j - 1].end,
                    score: 0.7,
                });
                i = j;
                continue;
            }
            i += 1;
            continue;
        }
        let mut j = i + 1;
        while j < all.len() && j - i < 4 && known(&all[j]) && adjacent(text, &all[j - 1], &all[j]) {
            j += 1;
        }
        // A capitalised word beside the known ones that is no ordinary word joins them: "Juventino Rosales".
        let stranger = |token: &Token| {
            let word = &token.key;
            token.capital
                && !gazetteer.never.contains(word.as_str())
                && !gazetteer.cues.contains(word.as_str())
                && !gazetteer.common.contains(word.as_str())
        };
        let mut extended = false;
        let mut start = i;
        if start > 0 && j - start < 3 && stranger(&all[start - 1]) && adjacent(text, &all[start - 1], &all[start]) {
            start -= 1;
            extended = true;
        }
        while j < all.len() && j - start < 4 && stranger(&all[j]) && adjacent(text, &all[j - 1], &all[j]) {
            j += 1;
            extended = true;
        }
        let run = &all[start..j];
        // A place: "San Diego", "Long Beach", "Alameda County".
        let before_is_place = start > 0
            && adjacent(text, &all[start - 1], &all[start])
            && all[start - 1].capital
            && gazetteer.never.contains(all[start - 1].key.as_str());
        let after_is_place = j < all.len()
            && adjacent(text, &all[j - 1], &all[j])
            && all[j].capital
            && gazetteer.never.contains(all[j].key.as_str());
        let plain = |token: &Token| !gazetteer.ambiguous.contains(token.key.as_str());
        let first_name = |token: &Token| {
            gazetteer.first.contains(token.key.as_str())
                || (hyphenated_name(token.word)
                    && token
                        .word
                        .split('-')
                        .next()
                        .is_some_and(|part| gazetteer.first.contains(folded(part).as_str())))
        };
        let surname = |token: &Token| gazetteer.last.contains(token.key.as_str());
        // A noun right after it makes it a brand, not a person: "Chase account", "Silver Sneakers classes".
        let modifies_a_noun = all
            .get(j)
            .is_some_and(|next| adjacent(text, &all[j - 1], next) && THINGS.contains(&next.word));
        let before = start.checked_sub(1).map(|at| all[at].word.to_lowercase());
        // "the Salvation Army", "la Luz"; "in Palo Alto", "en Pico Rivera": a thing or a place, not a person. Not
        // surname particles opening a header: "Patient: de la Rosa".
        let determined = before.as_deref().is_some_and(|word| DETERMINERS.contains(&word));
        let located = before.as_deref().is_some_and(|word| LOCATORS.contains(&word));
        let particled = || complete::particles_before(text, run[0].start) != run[0].start;
        let is_name = if before_is_place || after_is_place || modifies_a_noun || an_occasion(text, &all, start, j) {
            false
        } else if cued(&all, start) {
            true
        } else if (determined || located) && !particled() {
            false
        } else if extended {
            run.iter().filter(|t| known(t)).all(plain)
        } else if run.len() >= 2 {
            // Given name first, or surname first as Vietnamese, Chinese and Korean names and headers write them.
            run.iter().any(plain)
                && (first_name(&run[0])
                    || surname(&run[run.len() - 1])
                    || (surname(&run[0]) && first_name(&run[run.len() - 1])))
        } else {
            let token = &run[0];
            (plain(token) && first_name(token) && !sentence_start(text, token))
                // A middle initial and a surname follow, even opening a line: "From: Gregory A. Whitfield".
                || (first_name(token) && complete::initial_and_name(text, token.end).is_some_and(|end| {
                    text[token.end..end].trim_start().chars().nth(1) == Some('.')
                }))
                || (first_name(token) && owns_a_relation(text, &all, start))
                || (particled() && (first_name(token) || surname(token)))
        };
        if is_name {
            found.push(Detection {
                kind: Kind::Name,
                start: run[0].start,
                end: run[run.len() - 1].end,
                score: 0.7,
            });
        }
        i = j;
    }
    found.extend(lowercase::find(text, &all));
    found.extend(sign_off::find(text, &all));
    complete::complete(text, found)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Vec<&str> {
        crate::detect::matched(text, find(text))
    }

    #[test]
    fn full_names_without_a_cue() {
        assert_eq!(found("Can Rosa Delgado pick up my prescription?"), vec!["Rosa Delgado"]);
        assert_eq!(found("Harold Tsosie needs a new card"), vec!["Harold Tsosie"]);
        assert_eq!(
            found("¿Puede María José Ibarra llamar por mí?"),
            vec!["María José Ibarra"]
        );
        assert_eq!(found("Juventino Rosales, Medicare 5PY5"), vec!["Juventino Rosales"]);
        assert_eq!(found("Is Nadia Haddad's dentist in network?"), vec!["Nadia Haddad"]);
    }

    #[test]
    fn single_names_with_context() {
        assert_eq!(found("Dear Walter,\nyour claim"), vec!["Walter"]);
        assert_eq!(found("Dr. Okafor said I need an MRI"), vec!["Okafor"]);
        assert_eq!(found("my daughter Jennifer calls for me"), vec!["Jennifer"]);
        assert_eq!(found("can Jennifer call for me?"), vec!["Jennifer"]);
        assert_eq!(found("Patient: Delgado"), vec!["Delgado"]);
        assert_eq!(found("Thanks,\nGloria"), vec!["Gloria"]);
    }

    #[test]
    fn two_unusual_capitalised_words_are_a_name_outside_the_gazetteer() {
        assert_eq!(
            found("Yesterday Dmitri Volkov called from your office."),
            vec!["Dmitri Volkov"]
        );
        assert_eq!(
            found("Can Kwame Asante-Boateng switch plans?"),
            vec!["Kwame Asante-Boateng"]
        );
        assert!(found("Is Union City in the service area?").is_empty());
        assert!(found("Does Original Medicare pay for Part B Drugs?").is_empty());
        assert!(found("I use Express Scripts Mail Order for refills").is_empty());
    }

    #[test]
    fn a_name_outside_the_gazetteer_after_a_relation_or_salutation() {
        assert_eq!(found("My roommate Sergei is helping me type this."), vec!["Sergei"]);
        assert_eq!(found("My daughter Zainab handles my mail now."), vec!["Zainab"]);
        assert_eq!(found("Dear Oluwaseun,\nthank you"), vec!["Oluwaseun"]);
        assert_eq!(
            found("Patient: Oluwaseun Adeyemi-Bakare"),
            vec!["Oluwaseun Adeyemi-Bakare"]
        );
        assert!(found("Dear Member Services, my card").is_empty());
        assert!(found("What is the generic name of Lipitor?").is_empty());
        assert!(found("My doctor prescribed a drug called Ozempic.").is_empty());
        assert!(found("Hi, Pharmacy said no").is_empty());
    }

    #[test]
    fn a_place_and_a_particle_name_a_place() {
        let at = |text: &str, word: &str| text.find(word).expect("the word");
        for (text, word) in [
            ("¿El Hospital de Stanford está en la red?", "Stanford"),
            ("Is the University of the Pacific clinic covered?", "Pacific"),
            ("Fui a la Clinic de Santa Rosa", "Santa"),
            ("Voy al Centro Médico del Valle", "Valle"),
        ] {
            assert!(after_a_place_and_particle(text, at(text, word)), "{text}");
        }
        for (text, word) in [
            ("Mi hermana María de la Cruz me ayuda", "Cruz"),
            ("My daughter Ana drives me", "Ana"),
            ("Stanford called me", "Stanford"),
            ("the hospital de Stanford", "Stanford"),
            ("el número de Medicare de Juan Pérez", "Juan"),
            ("A la María le negaron la receta", "María"),
            ("mi tío Jesús de la Cruz", "Cruz"),
            ("Long Beach Medical Center. The Lopez family called", "Lopez"),
        ] {
            assert!(!after_a_place_and_particle(text, at(text, word)), "{text}");
        }
    }

    #[test]
    fn plan_words_places_and_ordinary_words_stay() {
        assert!(found("Does SCAN Classic cover Medicare Advantage members in San Diego?").is_empty());
        assert!(found("Is Long Beach in the service area?").is_empty());
        assert!(found("Will my plan cover it in May?").is_empty());
        assert!(found("Mark the calendar for me").is_empty());
        assert!(found("Is Alameda County covered?").is_empty());
        assert!(found("Does Rosales Pharmacy take my plan?").is_empty());
    }

    #[test]
    fn a_name_grows_over_initials_particles_and_a_given_name_after_a_comma() {
        assert_eq!(
            found("Is Harold P. Whitcomb my doctor now?"),
            vec!["Harold P. Whitcomb"]
        );
        assert_eq!(found("Name: Okafor, Chidi\nDOB on file"), vec!["Okafor, Chidi"]);
        assert_eq!(
            found("Paciente: de la Garza, Ramón\n¿Cubre la cirugía?"),
            vec!["de la Garza, Ramón"]
        );
        assert!(found("Do I pay la Garza Pharmacy or the plan?").is_empty());
    }

    #[test]
    fn a_month_that_is_a_first_name_starts_a_name_only_before_one() {
        assert_eq!(found("Can June Kowalczyk pick up my refill?"), vec!["June Kowalczyk"]);
        assert!(found("Will my plan cover it in June?").is_empty());
        assert!(found("Does June Medicare enrollment count?").is_empty());
    }

    #[test]
    fn names_in_lower_case_need_a_surname_or_a_greeting() {
        assert_eq!(
            found("my nephew marcus whitfield drives me to dialysis"),
            vec!["marcus whitfield"]
        );
        assert_eq!(found("hi brenda, is the nurse line open today?"), vec!["brenda"]);
        assert!(found("can i get a ride to the clinic on monday").is_empty());
        assert!(found("will the plan pay for my hearing aids").is_empty());
    }

    #[test]
    fn a_sign_off_after_a_dash_ends_the_message() {
        assert_eq!(found("Is the pharmacy open late? -Bernadette"), vec!["Bernadette"]);
        assert_eq!(found("thanks!! -- bernadette k."), vec!["bernadette k"]);
        assert!(found("What is the copay - is it $0?").is_empty());
        assert!(found("Tier 1 - preferred generic").is_empty());
    }

    #[test]
    fn things_named_like_people_stay() {
        assert!(found("Is the Nurse Advice Line free?").is_empty());
        assert!(found("¿Abren el Sábado Santo?").is_empty());
        assert!(found("Pagué la Luz y el teléfono este mes").is_empty());
        assert!(found("I split my time between Half Moon Bay and Reno").is_empty());
        assert!(found("Can I pay from my Chase account?").is_empty());
        assert!(found("Are Silver Sneakers classes free?").is_empty());
        assert_eq!(found("Can Rosa Delgado's card be mailed?"), vec!["Rosa Delgado"]);
        assert_eq!(found("El farmacéutico, don Eusebio, dice que sí"), vec!["Eusebio"]);
    }

    #[test]
    fn a_name_that_owns_a_relation_opens_a_sentence() {
        assert_eq!(found("Lakshmi's son drives her to dialysis."), vec!["Lakshmi"]);
        assert_eq!(found("Darnell’s daughter picks up his refills."), vec!["Darnell"]);
        assert!(found("Medicare's rules changed this year.").is_empty());
        assert!(found("Ozempic's maker raised the price.").is_empty());
    }

    #[test]
    fn occasions_places_after_in_and_things_after_the_stay() {
        assert!(found("Is the office open on Valentine's Day?").is_empty());
        assert!(found("Will my ride benefit work on New Year's Eve?").is_empty());
        assert!(found("I visit family in Austin every summer").is_empty());
        assert!(found("¿Hay farmacias en Pico Rivera?").is_empty());
        assert!(found("Does the Salvation Army program count?").is_empty());
        assert_eq!(found("Can Rosa Delgado pick it up in Austin?"), vec!["Rosa Delgado"]);
    }

    #[test]
    fn sign_offs_greetings_and_lists_of_people() {
        assert_eq!(
            found("Card came today, all good. Take care, Philippa"),
            vec!["Philippa"]
        );
        assert_eq!(
            found("Thank you for the help.\nWarmly, Tadashi and Michiko Sato"),
            vec!["Tadashi and Michiko Sato"]
        );
        assert!(found("Is dental covered here, Medicare or the plan?").is_empty());
        assert!(found("Got it, Thanks").is_empty());
        assert_eq!(found("Good morning Bahram, my refill is late."), vec!["Bahram"]);
        assert_eq!(found("My mother-in-law Svetlana needs a ride."), vec!["Svetlana"]);
        assert_eq!(found("Is the claim for Mary-Kate still open?"), vec!["Mary-Kate"]);
    }

    #[test]
    fn header_forms_with_initials_and_capital_particles() {
        assert_eq!(
            found("From: Harold P. Whitcomb\nSubject: bill"),
            vec!["Harold P. Whitcomb"]
        );
        assert_eq!(
            found("Member: Okafor, Chidi N. / Issue: copay"),
            vec!["Okafor, Chidi N."]
        );
        assert_eq!(
            found("PATIENT: DE LA GARZA, RAMON\nDrug: Lasix"),
            vec!["DE LA GARZA, RAMON"]
        );
    }

    #[test]
    fn lower_case_names_after_a_title_or_an_introduction() {
        assert_eq!(found("can mrs. whitfield call for me"), vec!["whitfield"]);
        assert_eq!(found("hola soy marisol, cubren lentes?"), vec!["marisol"]);
        assert!(found("soy diabético y necesito zapatos").is_empty());
    }
}
