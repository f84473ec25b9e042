//! Following a quoted passage's reference to another section the turn read: the reference alone answers nothing.

use navigator_platform::section::SectionRef;

use super::ExtractiveComposer;
use super::intent::{Intent, holds_intent};
use super::scoring::{Pick, Scored};
use crate::compose::passages::Sentence;
use crate::question::references_in;

impl ExtractiveComposer {
    /// A chosen passage that sends the reader to another section ("see Section 2.4 in this chapter") is followed
    /// by that section's opening when the turn read it: the reference alone answers nothing. The openings stay; the
    /// passages added only for scoring close to the best make room for them.
    pub(super) fn follow_references<'s>(
        &self,
        candidates: &'s [Sentence],
        intent: Intent,
        chosen: &mut Vec<Scored<'s>>,
    ) {
        let mut at = 0;
        while at < chosen.len() {
            let referrer = chosen[at].first;
            let references: Vec<SectionRef> = chosen[at]
                .window
                .iter()
                .flat_map(|sentence| references_in(&sentence.text, &sentence.section))
                .map(|(section, _)| section)
                .collect();
            for section in references {
                let Some(opening) = self.opening(candidates, &section, intent) else {
                    continue;
                };
                // A passage chosen for the question, or an opening already quoted, keeps its place; a passage
                // quoting part of the opening only because it scored close to the best gives way to it.
                if chosen.iter().any(|c| c.pick != Pick::Fill && c.overlaps(&opening)) {
                    continue;
                }
                chosen.retain(|c| !c.overlaps(&opening));
                // The referrer is never removed: it belongs to another section, so to another passage.
                let Some(position) = chosen.iter().position(|c| c.first == referrer) else {
                    break;
                };
                chosen.insert(position + 1, opening);
            }
            at = chosen
                .iter()
                .position(|c| c.first == referrer)
                .map_or(chosen.len(), |p| p + 1);
            while chosen.get(at).is_some_and(|c| c.pick == Pick::Followed) {
                at += 1;
            }
        }
        // Over budget, the last passage not chosen for the question goes, with the openings it brought; an opening
        // brought by a passage chosen for the question goes alone.
        let chars = |chosen: &[Scored<'_>]| chosen.iter().map(Scored::chars).sum::<usize>();
        while chosen.len() > self.settings.max_passages || chars(chosen) > self.settings.max_chars {
            let Some(last) = chosen.iter().rposition(|c| c.pick != Pick::Question) else {
                break;
            };
            let mut first = last;
            while first > 0 && chosen[first].pick == Pick::Followed && chosen[first - 1].pick != Pick::Question {
                first -= 1;
            }
            chosen.drain(first..=last);
        }
    }

    /// The first sentences of a section the turn read, from the passage that opens it (or its best passage).
    pub(super) fn opening<'s>(
        &self,
        candidates: &'s [Sentence],
        section: &SectionRef,
        intent: Intent,
    ) -> Option<Scored<'s>> {
        let heading = format!("section {}", section.number);
        let starts = candidates
            .iter()
            .enumerate()
            .filter(|(_, s)| s.position == 0 && section.holds(&s.section))
            .min_by_key(|(_, s)| (!s.text.to_lowercase().starts_with(&heading), s.source_rank))
            .map(|(i, _)| i)?;
        let source = candidates[starts].source_rank;
        let mut last = starts;
        let mut chars = candidates[starts].text.len();
        while last + 1 < candidates.len()
            && candidates[last + 1].source_rank == source
            && last + 1 - starts < self.settings.window_sentences
            && chars + candidates[last + 1].text.len() <= self.settings.window_chars
        {
            last += 1;
            chars += candidates[last].text.len();
        }
        let window = &candidates[starts..=last];
        Some(Scored {
            window,
            first: starts,
            coverage: 0.0,
            answers_intent: window.iter().any(|s| holds_intent(&s.text, intent)),
            score: 0.0,
            pick: Pick::Followed,
        })
    }
}
