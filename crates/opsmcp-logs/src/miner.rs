//! Online template mining over signatures (see `mask`).
//!
//! Two tiers. Tier one is exact: a signature seen before maps straight to its template through a
//! hash map, so the common case costs one hash lookup. Tier two runs only for a signature never
//! seen before: it joins the first template (same token count) whose constant tokens it matches;
//! otherwise it starts a template of its own, and then *sibling templates* — same token count,
//! identical everywhere but one position — are merged once that position has shown
//! [`SIBLING_VALUES`] different words, which makes the position a variable. That is how variables
//! without digits (user names, host names) are found without any per-dataset setting, while two
//! words that alternate (`opened`/`closed`) stay apart.
//!
//! Everything here depends only on the order in which *new* signatures arrive, never on counts,
//! so mining chunks in parallel and feeding their new signatures in input order gives exactly the
//! single-threaded answer.

use rustc_hash::{FxHashMap, FxHasher};
use std::hash::{Hash, Hasher};

use crate::mask::VAR;

/// How many different words one position must show, all else equal, before it is a variable.
pub const SIBLING_VALUES: usize = 3;

/// Upper bound on remembered signatures; past it, new signatures are matched against templates
/// every time instead of being cached, so memory stays bounded on endless streams.
pub const MAX_CACHED_SIGNATURES: usize = 1 << 20;

/// Index of a template inside one [`Miner`]; merged templates resolve to the survivor through
/// [`Miner::resolve`].
pub type TemplateIdx = u32;

const VAR_SYM: u32 = 0;

#[derive(Debug, Clone)]
struct Template {
    /// Interned tokens; `VAR_SYM` marks a variable.
    toks: Vec<u32>,
    /// Merged into another template (union-find parent), or itself.
    parent: TemplateIdx,
}

/// The online template miner. Feed it signatures in input order with [`Miner::add`].
#[derive(Debug)]
pub struct Miner {
    cache: FxHashMap<Box<[u8]>, TemplateIdx>,
    syms: FxHashMap<Box<[u8]>, u32>,
    sym_text: Vec<Box<[u8]>>,
    /// Per symbol: it holds a masked variable (`<*>`, `<*>,`, `id=<*>`).
    varlike: Vec<bool>,
    /// Per symbol: a variable and punctuation only (`<*>,`, `[<*>]`).
    purevar: Vec<bool>,
    templates: Vec<Template>,
    /// Live (unmerged) templates by token count, in creation order.
    by_len: FxHashMap<usize, Vec<TemplateIdx>>,
}

impl Default for Miner {
    fn default() -> Self {
        Self::new()
    }
}

/// A stable 64-bit hash of bytes (FxHash is fixed-seed, so ids survive runs and machines).
pub fn stable_hash(bytes: &[u8]) -> u64 {
    let mut h = FxHasher::default();
    bytes.hash(&mut h);
    h.finish()
}

/// The id of a template: FNV-1a (64 bits) of its text. A fixed, documented function of the
/// text alone, so the same template has the same id in every run, file, window and version.
pub fn template_id(text: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in text {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

impl Miner {
    /// An empty miner.
    pub fn new() -> Self {
        let mut m = Miner {
            cache: FxHashMap::default(),
            syms: FxHashMap::default(),
            sym_text: Vec::new(),
            varlike: Vec::new(),
            purevar: Vec::new(),
            templates: Vec::new(),
            by_len: FxHashMap::default(),
        };
        m.intern(VAR);
        m
    }

    fn intern(&mut self, tok: &[u8]) -> u32 {
        if let Some(&s) = self.syms.get(tok) {
            return s;
        }
        let s = self.sym_text.len() as u32;
        let varlike = memchr::memmem::find(tok, VAR).is_some();
        self.varlike.push(varlike);
        // Remove the placeholders; what is left must have no letter or digit.
        let pure = varlike && {
            let mut rest = tok.to_vec();
            while let Some(i) = memchr::memmem::find(&rest, VAR) {
                rest.drain(i..i + VAR.len());
            }
            !rest.iter().any(u8::is_ascii_alphanumeric)
        };
        self.purevar.push(pure);
        self.sym_text.push(tok.into());
        self.syms.insert(tok.into(), s);
        s
    }

    /// The template of a signature, creating or merging templates as needed. The returned index
    /// may later be merged away; resolve it with [`Miner::resolve`] when reporting.
    pub fn add(&mut self, sig: &[u8]) -> TemplateIdx {
        if let Some(&t) = self.cache.get(sig) {
            return self.resolve(t);
        }
        let toks: Vec<u32> = if sig.is_empty() {
            Vec::new()
        } else {
            sig.split(|&b| b == b' ').map(|t| self.intern(t)).collect()
        };
        let t = self.place(toks);
        if self.cache.len() < MAX_CACHED_SIGNATURES {
            self.cache.insert(sig.into(), t);
        }
        t
    }

    /// Follows merges to the surviving template.
    pub fn resolve(&self, mut t: TemplateIdx) -> TemplateIdx {
        while self.templates[t as usize].parent != t {
            t = self.templates[t as usize].parent;
        }
        t
    }

    /// A template may stand for words it has not seen at its variables only when enough of it is
    /// constant: at least three tokens and at least half of them. Otherwise (`<*> <*> done`) it
    /// only takes signatures with variables in the same places.
    fn anchored(&self, tpl: &[u32]) -> bool {
        let consts = tpl.iter().filter(|&&s| !self.varlike[s as usize]).count();
        consts >= 3 && consts * 2 >= tpl.len()
    }

    /// Whether `tpl` takes `toks`: constants equal, and where they differ a variable of an
    /// anchored template, or two tokens that both hold a variable, one of them nothing but a
    /// variable and punctuation (`<*>,` takes `LOCAL(<*>),`; `(uid=<*>)` does not take
    /// `LOGIN(uid=<*>)`).
    fn accepts(&self, tpl: &[u32], toks: &[u32]) -> bool {
        if tpl.len() != toks.len() {
            return false;
        }
        let mut anchored: Option<bool> = None;
        tpl.iter().zip(toks).all(|(&a, &b)| {
            a == b
                || ((a == VAR_SYM
                    || (self.varlike[a as usize]
                        && self.varlike[b as usize]
                        && (self.purevar[a as usize] || self.purevar[b as usize])))
                    && *anchored.get_or_insert_with(|| self.anchored(tpl)))
        })
    }

    fn place(&mut self, toks: Vec<u32>) -> TemplateIdx {
        let n = toks.len();
        let live = self.by_len.remove(&n).unwrap_or_default();
        // Join the most specific accepting template (most constant tokens), earliest on ties.
        let mut best: Option<(usize, TemplateIdx)> = None;
        for &t in live.iter() {
            let tpl = &self.templates[t as usize].toks;
            if self.accepts(tpl, &toks) {
                let consts = tpl.iter().filter(|&&s| s != VAR_SYM).count();
                if best.is_none_or(|(c, _)| consts > c) {
                    best = Some((consts, t));
                }
            }
        }
        let mut live = live;
        if let Some((_, t)) = best {
            self.by_len.insert(n, live);
            return t;
        }
        let idx = self.templates.len() as TemplateIdx;
        let has_var = toks.iter().any(|&t| self.varlike[t as usize]);
        self.templates.push(Template { toks, parent: idx });
        live.push(idx);
        self.by_len.insert(n, live);
        if has_var {
            let toks = self.templates[idx as usize].toks.clone();
            self.unite(vec![idx], toks);
        }
        self.merge_siblings(self.resolve(idx));
        self.resolve(idx)
    }

    /// Makes `members` one template with tokens `toks`, absorbing every other live template of the
    /// same length that `toks` accepts. The earliest template survives, so ids stay those of the
    /// first line seen.
    fn unite(&mut self, mut members: Vec<TemplateIdx>, toks: Vec<u32>) -> TemplateIdx {
        let n = toks.len();
        if let Some(live) = self.by_len.get(&n) {
            for &o in live {
                if !members.contains(&o) && self.accepts(&toks, &self.templates[o as usize].toks) {
                    members.push(o);
                }
            }
        }
        members.sort_unstable();
        let keep = members[0];
        for &o in &members[1..] {
            self.templates[o as usize].parent = keep;
        }
        self.templates[keep as usize].toks = toks;
        let templates = &self.templates;
        if let Some(v) = self.by_len.get_mut(&n) {
            v.retain(|&o| templates[o as usize].parent == o);
        }
        keep
    }

    /// Merges the templates that differ from `idx` at exactly one position, when that position
    /// has taken at least [`SIBLING_VALUES`] different words and the result stays anchored.
    fn merge_siblings(&mut self, idx: TemplateIdx) {
        let n = self.templates[idx as usize].toks.len();
        let live = self.by_len.get(&n).cloned().unwrap_or_default();
        for p in 0..n {
            let me = &self.templates[idx as usize].toks;
            if me[p] == VAR_SYM {
                continue;
            }
            let mut general = me.clone();
            general[p] = VAR_SYM;
            if !self.anchored(&general) {
                continue;
            }
            let sibs: Vec<TemplateIdx> = live
                .iter()
                .copied()
                .filter(|&o| {
                    if o == idx || self.templates[o as usize].parent != o {
                        return false;
                    }
                    let ot = &self.templates[o as usize].toks;
                    ot[p] != VAR_SYM
                        && ot
                            .iter()
                            .zip(me.iter())
                            .enumerate()
                            .all(|(q, (a, b))| q == p || a == b)
                })
                .collect();
            if sibs.len() + 1 >= SIBLING_VALUES {
                let mut all = sibs;
                all.push(idx);
                let keep = self.unite(all, general);
                // The survivor may now have siblings of its own at another position.
                self.merge_siblings(keep);
                return;
            }
        }
    }

    /// The stable id of a template: [`template_id`] of its text.
    pub fn id(&self, t: TemplateIdx) -> u64 {
        template_id(self.text(t).as_bytes())
    }

    /// The template a signature belongs to, without learning from it: the template it was
    /// mined into, else the most specific template that accepts it. For assigning lines after
    /// mining ([`crate::Engine::into_assigner`]).
    pub fn lookup(&self, sig: &[u8]) -> Option<TemplateIdx> {
        if let Some(&t) = self.cache.get(sig) {
            return Some(self.resolve(t));
        }
        let mut toks = Vec::new();
        if !sig.is_empty() {
            for t in sig.split(|&b| b == b' ') {
                // A token never seen cannot equal a template's constant; it can still sit at a
                // variable.
                toks.push(self.syms.get(t).copied().unwrap_or(u32::MAX));
            }
        }
        let live = self.by_len.get(&toks.len())?;
        let mut best: Option<(usize, TemplateIdx)> = None;
        for &t in live {
            let tpl = &self.templates[t as usize].toks;
            let mut anchored: Option<bool> = None;
            let ok = tpl.iter().zip(&toks).all(|(&a, &b)| {
                a == b
                    || ((a == VAR_SYM
                        || (b != u32::MAX
                            && self.varlike[a as usize]
                            && self.varlike[b as usize]
                            && (self.purevar[a as usize] || self.purevar[b as usize])))
                        && *anchored.get_or_insert_with(|| self.anchored(tpl)))
            });
            if ok {
                let consts = tpl.iter().filter(|&&s| s != VAR_SYM).count();
                if best.is_none_or(|(c, _)| consts > c) {
                    best = Some((consts, t));
                }
            }
        }
        best.map(|(_, t)| t)
    }

    /// Decisions that need the whole run: called once mining is over, before reporting.
    pub fn settle(&mut self) {}

    /// The template text of a (resolved) template, variables as `<*>`.
    pub fn text(&self, t: TemplateIdx) -> String {
        let tpl = &self.templates[self.resolve(t) as usize];
        let mut out = Vec::new();
        for (i, &s) in tpl.toks.iter().enumerate() {
            if i > 0 {
                out.push(b' ');
            }
            out.extend_from_slice(&self.sym_text[s as usize]);
        }
        String::from_utf8_lossy(&out).into_owned()
    }

    /// Number of templates ever created (including merged-away ones); indices are below this.
    pub fn len(&self) -> usize {
        self.templates.len()
    }

    /// True when no signature was added yet.
    pub fn is_empty(&self) -> bool {
        self.templates.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_without_digits_merge_after_three_values() {
        let mut m = Miner::new();
        let a = m.add(b"Invalid user alice from <*>");
        let b = m.add(b"Invalid user bob from <*>");
        assert_ne!(m.resolve(a), m.resolve(b));
        let c = m.add(b"Invalid user carol from <*>");
        assert_eq!(m.resolve(a), m.resolve(c));
        assert_eq!(m.resolve(b), m.resolve(c));
        assert_eq!(m.text(c), "Invalid user <*> from <*>");
        let d = m.add(b"Invalid user dave from <*>");
        assert_eq!(m.resolve(d), m.resolve(a));
    }

    #[test]
    fn alternating_words_stay_apart() {
        let mut m = Miner::new();
        let a = m.add(b"session opened for user root");
        let b = m.add(b"session closed for user root");
        assert_ne!(m.resolve(a), m.resolve(b));
    }
}
