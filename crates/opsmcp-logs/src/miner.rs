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

/// The same for plain words (letters only): two or three values (`GET`/`POST`/`PUT`,
/// `opened`/`closed`, `OK`/`WARNING`/`CRITICAL`) are meaning, not a variable.
pub const WORD_VALUES: usize = 4;

/// The same beside a single fixed token (see [`Miner::merge_siblings`]).
pub const LONE_VALUES: usize = 10;

/// The same for words in capitals (`ADD`/`UPDATE`/`DELETE`/`REMOVE`, `SOFT`/`HARD`): programs
/// write enumerations (states, actions, outcomes, methods) that way, so even four or five
/// values are still meaning. Not right after a variable: there a word qualifies the value
/// (`12.50 EUR`, `3 KB`), a unit that varies with it.
pub const CAPS_VALUES: usize = 6;

/// A word in capitals (`UPDATE"`, `WARNING;`, `UP_FOR_RETRY`): two or more capital letters,
/// maybe underscores, once wrapping punctuation is stripped.
fn is_caps(tok: &[u8]) -> bool {
    let s = tok.iter().position(u8::is_ascii_alphanumeric);
    let e = tok.iter().rposition(u8::is_ascii_alphanumeric);
    match (s, e) {
        (Some(s), Some(e)) => {
            let w = &tok[s..=e];
            w.iter().filter(|b| b.is_ascii_uppercase()).count() >= 2
                && w.iter().all(|&b| b.is_ascii_uppercase() || b == b'_')
                && !is_quoted(tok)
        }
        _ => false,
    }
}

/// A URL path, maybe quoted or bracketed (`"/cart/items"`): a request's route is what the
/// request is about, never a variable as a whole.
fn is_route(tok: &[u8]) -> bool {
    let t = tok.trim_ascii_start();
    let s = t
        .iter()
        .position(|b| !matches!(b, b'"' | b'\'' | b'(' | b'[' | b'<'))
        .unwrap_or(t.len());
    t[s..].starts_with(b"/") || memchr::memmem::find(t, b"://").is_some()
}

/// The wrapping of a token: its first and last byte where those are punctuation (a
/// placeholder counts as a letter), or `None` for a token of punctuation only (`-`, `'/',`),
/// which is no value written and fits any wrapping.
type Wrap = Option<(Option<u8>, Option<u8>)>;

fn wrap_of(t: &[u8]) -> Wrap {
    let has_value =
        t.iter().any(u8::is_ascii_alphanumeric) || memchr::memmem::find(t, VAR).is_some();
    let punct = |c: Option<&u8>| c.filter(|c| !c.is_ascii_alphanumeric()).copied();
    has_value.then(|| {
        (
            if t.starts_with(VAR) {
                None
            } else {
                punct(t.first())
            },
            if t.ends_with(VAR) {
                None
            } else {
                punct(t.last())
            },
        )
    })
}

/// Whether parenthetical `a` takes parenthetical `b` (see [`crate::mask::GROUP_SPACE`]): the
/// same number of words, each equal or taken the way a template token takes a token (a
/// variable and punctuation takes any variable wrapped alike; a word with a variable inside
/// takes the same word with any value there). A phrase is compared word by word.
fn group_takes(a: &[u8], b: &[u8]) -> bool {
    let sep = crate::mask::GROUP_SPACE;
    if a.iter().filter(|&&c| c == sep).count() != b.iter().filter(|&&c| c == sep).count() {
        return false;
    }
    let pure = |t: &[u8]| {
        let mut rest = t.to_vec();
        while let Some(i) = memchr::memmem::find(&rest, VAR) {
            rest.drain(i..i + VAR.len());
        }
        !rest.iter().any(u8::is_ascii_alphanumeric)
    };
    a.split(|&c| c == sep)
        .zip(b.split(|&c| c == sep))
        .all(|(x, y)| {
            let (xv, yv) = (memchr::memmem::find(x, VAR), memchr::memmem::find(y, VAR));
            x == y
                || x == VAR
                || (xv.is_some()
                    && yv.is_some()
                    && (pure(x) || pure(y))
                    && same_wrap(wrap_of(x), wrap_of(y)))
                || (yv.is_none()
                    && xv.is_some_and(|f| {
                        memchr::memmem::rfind(x, VAR) == Some(f)
                            && y.len() > x.len() - VAR.len()
                            && y.starts_with(&x[..f])
                            && y.ends_with(&x[f + VAR.len()..])
                    }))
        })
}

/// Whether two tokens are wrapped alike (`'a',` and `'b',`; not `'a')` and `'a'):`, which end
/// different sentences).
fn same_wrap(a: Wrap, b: Wrap) -> bool {
    match (a, b) {
        (Some(x), Some(y)) => x == y,
        _ => true,
    }
}

/// A plain word: letters only once wrapping punctuation is stripped (`stage`, `(Build)`,
/// `UPDATE"`), or `key=` followed by such a word.
fn is_wordlike(tok: &[u8]) -> bool {
    if is_quoted(tok) {
        return false;
    }
    let t = match memchr::memchr(b'=', tok) {
        Some(eq) => &tok[eq + 1..],
        None => tok,
    };
    let t = t.trim_ascii();
    let s = t.iter().position(u8::is_ascii_alphanumeric);
    let e = t.iter().rposition(u8::is_ascii_alphanumeric);
    match (s, e) {
        (Some(s), Some(e)) => t[s..=e].iter().all(u8::is_ascii_alphabetic),
        _ => false,
    }
}

/// One token wrapped in matching quotes (`'orders'`, `"tls",`, `` `job.daily' ``,
/// `\"config\"`): quoting marks a value that was substituted into the message, so it is a name,
/// never a word of the sentence.
fn is_quoted(tok: &[u8]) -> bool {
    let t = tok.strip_prefix(b"(").unwrap_or(tok);
    let end = t
        .iter()
        .rposition(|b| !matches!(b, b',' | b'.' | b';' | b':' | b')'))
        .map_or(0, |p| p + 1);
    let t = &t[..end];
    let inner = match t {
        [b'\\', b'"', inner @ .., b'\\', b'"'] => inner,
        [b'\'', inner @ .., b'\''] | [b'"', inner @ .., b'"'] | [b'`', inner @ .., b'\''] => inner,
        _ => return false,
    };
    !inner.is_empty()
        && !inner
            .iter()
            .any(|b| matches!(b, b'"' | b'\'' | b'`' | b' '))
}

/// Templates that must share a prefix, differing after it in free text, to become one template
/// with a free-text tail; and the shortest such prefix.
pub const TAIL_VALUES: usize = 3;
pub const TAIL_PREFIX: usize = 3;

/// Live templates kept per token count. Past it, a signature no template takes joins the
/// overflow template of its length (all variables): only garbage (binary data, random text)
/// gets there, and it must not cost time quadratic in its size nor unbounded memory.
pub const MAX_LIVE_PER_LEN: usize = 1024;

/// Templates in a run beyond which the refinements that compare a new template with all others
/// (identifier and tail merges) stop.
pub const MAX_TEMPLATES_FOR_MERGES: usize = 4096;

/// Upper bound on remembered signatures; past it, new signatures are matched against templates
/// every time instead of being cached, so memory stays bounded on endless streams.
pub const MAX_CACHED_SIGNATURES: usize = 1 << 20;

/// Upper bound on the bytes of remembered signatures (garbage lines can be long).
pub const MAX_CACHED_BYTES: usize = 64 << 20;

/// Upper bound on distinct tokens remembered; past it, a token never seen is one shared
/// unknown word (only garbage gets there).
pub const MAX_SYMBOLS: usize = 1 << 20;

/// Upper bound on templates in a run; past it, a signature no template takes joins the
/// overflow template of its length.
pub const MAX_TEMPLATES: usize = 1 << 18;

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
    /// `toks` is a prefix followed by free text of any length (shown as one `<*>`).
    tail: bool,
}

/// The online template miner. Feed it signatures in input order with [`Miner::add`].
#[derive(Debug)]
pub struct Miner {
    cache: FxHashMap<Box<[u8]>, TemplateIdx>,
    cache_bytes: usize,
    syms: FxHashMap<Box<[u8]>, u32>,
    sym_text: Vec<Box<[u8]>>,
    /// Per symbol: it holds a masked variable (`<*>`, `<*>,`, `id=<*>`).
    varlike: Vec<bool>,
    /// Per symbol: a variable and punctuation only (`<*>,`, `[<*>]`).
    purevar: Vec<bool>,
    /// Per symbol: a hash of its key when it is `key=value` (0 otherwise), and whether its
    /// value is a variable (`user=<*>`), which then stands for any value of that key.
    kv_key: Vec<u64>,
    kv_var: Vec<bool>,
    /// Per symbol: a plain word (letters, maybe wrapped in punctuation, or `key=letters`).
    wordlike: Vec<bool>,
    /// Per symbol: a URL path or URL (see [`is_route`]).
    route: Vec<bool>,
    /// Per symbol: its wrapping (see [`wrap_of`]).
    wrap: Vec<Wrap>,
    /// Per symbol with exactly one placeholder and fixed text (`(<*>)`, `C:<*>>make`): the
    /// lengths of the text before and after it; `u16::MAX` twice otherwise.
    around_var: Vec<(u16, u16)>,
    /// Per symbol: a parenthetical of several words (see [`crate::mask::GROUP_SPACE`]).
    group: Vec<bool>,
    templates: Vec<Template>,
    /// Live (unmerged) templates by token count, in creation order.
    by_len: FxHashMap<usize, Vec<TemplateIdx>>,
    /// Live tail templates (a prefix, then free text), in creation order.
    tails: Vec<TemplateIdx>,
    /// Per token count whose live templates are full, its overflow template.
    overflow: FxHashMap<usize, TemplateIdx>,
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
            cache_bytes: 0,
            syms: FxHashMap::default(),
            sym_text: Vec::new(),
            varlike: Vec::new(),
            purevar: Vec::new(),
            kv_key: Vec::new(),
            kv_var: Vec::new(),
            wordlike: Vec::new(),
            route: Vec::new(),
            wrap: Vec::new(),
            around_var: Vec::new(),
            group: Vec::new(),
            templates: Vec::new(),
            by_len: FxHashMap::default(),
            tails: Vec::new(),
            overflow: FxHashMap::default(),
        };
        m.intern(VAR);
        m
    }

    fn intern(&mut self, tok: &[u8]) -> u32 {
        if let Some(&s) = self.syms.get(tok) {
            return s;
        }
        if self.sym_text.len() >= MAX_SYMBOLS {
            return self.intern_unbounded(b"<?>");
        }
        self.intern_unbounded(tok)
    }

    fn intern_unbounded(&mut self, tok: &[u8]) -> u32 {
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
        let (key, var) = match memchr::memchr(b'=', tok) {
            Some(eq)
                if eq > 0
                    && tok[..eq]
                        .iter()
                        .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-')) =>
            {
                let value = &tok[eq + 1..];
                let value = value.strip_suffix(b",").unwrap_or(value);
                (stable_hash(&tok[..=eq]) | 1, value == VAR)
            }
            _ => (0, false),
        };
        self.kv_key.push(key);
        self.kv_var.push(var);
        self.wordlike.push(is_wordlike(tok));
        self.route.push(is_route(tok));
        self.wrap.push(wrap_of(tok));
        let around = match (
            memchr::memmem::find(tok, VAR),
            memchr::memmem::rfind(tok, VAR),
        ) {
            (Some(f), Some(l)) if f == l && tok.len() > VAR.len() && tok.len() < 1 << 15 => {
                (f as u16, (tok.len() - f - VAR.len()) as u16)
            }
            _ => (u16::MAX, u16::MAX),
        };
        self.around_var.push(around);
        self.group.push(tok.contains(&crate::mask::GROUP_SPACE));
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
        if self.cache.len() < MAX_CACHED_SIGNATURES
            && self.cache_bytes + sig.len() <= MAX_CACHED_BYTES
        {
            self.cache_bytes += sig.len();
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
    /// fixed text: at least half of its tokens or four of them (a long message with many masked
    /// fields still has its sentence), and two of them (one of two). Otherwise (`<*> <*> done`)
    /// it only takes signatures with variables in the same places.
    fn anchored(&self, tpl: &[u32]) -> bool {
        // A token with fixed text around its variable (`user=<*>`, `unknown[<*>]`) still
        // anchors; only a bare placeholder (`<*>`, `<*>,`, `[<*>]`) does not.
        let consts = tpl.iter().filter(|&&s| !self.purevar[s as usize]).count();
        tpl.len() >= 2 && (consts * 2 >= tpl.len() || consts >= 4) && consts >= 2.min(tpl.len() - 1)
    }

    /// Whether template token `a` takes token `b` (equal, or `a` a variable that stands for it).
    #[inline]
    fn takes(&self, a: u32, b: u32) -> bool {
        let (ai, bi) = (a as usize, b as usize);
        a == b
            || a == VAR_SYM
            || (self.group[ai]
                && self.group[bi]
                && group_takes(&self.sym_text[ai], &self.sym_text[bi]))
            || (self.varlike[ai]
                && self.varlike[bi]
                && (self.purevar[ai] || self.purevar[bi])
                && same_wrap(self.wrap[ai], self.wrap[bi]))
            || (self.kv_var[ai] && self.kv_key[ai] != 0 && self.kv_key[ai] == self.kv_key[bi])
            || (!self.varlike[bi] && !self.route[bi] && {
                // The fixed text around the template's one variable, precomputed: this runs for
                // every template tried, garbage included.
                let (h, t) = self.around_var[ai];
                let (p, b) = (&self.sym_text[ai], &self.sym_text[bi]);
                (h, t) != (u16::MAX, u16::MAX)
                    && b.len() > usize::from(h) + usize::from(t)
                    && b.starts_with(&p[..usize::from(h)])
                    && b.ends_with(&p[p.len() - usize::from(t)..])
            })
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
            a == b || (self.takes(a, b) && *anchored.get_or_insert_with(|| self.anchored(tpl)))
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
        self.by_len.insert(n, std::mem::take(&mut live));
        if let Some(t) = self.tail_for(&toks) {
            return t;
        }
        let mut live = self.by_len.remove(&n).unwrap_or_default();
        if live.len() >= MAX_LIVE_PER_LEN || self.templates.len() >= MAX_TEMPLATES {
            self.by_len.insert(n, live);
            let next = self.templates.len() as TemplateIdx;
            let t = *self.overflow.entry(n).or_insert(next);
            if t == next {
                self.templates.push(Template {
                    toks: vec![VAR_SYM; n],
                    parent: t,
                    tail: false,
                });
            }
            return t;
        }
        let idx = self.templates.len() as TemplateIdx;
        let has_var = toks.iter().any(|&t| self.varlike[t as usize]);
        self.templates.push(Template {
            toks,
            parent: idx,
            tail: false,
        });
        live.push(idx);
        self.by_len.insert(n, live);
        if has_var {
            let toks = self.templates[idx as usize].toks.clone();
            self.unite(vec![idx], toks);
        }
        self.merge_siblings(self.resolve(idx));
        self.merge_identifiers(self.resolve(idx));
        self.merge_tails(self.resolve(idx));
        self.resolve(idx)
    }

    /// `<*>` wrapped in the punctuation all of `vals` share (`'<*>')`, `(<*>)`): the wrapping
    /// is part of the sentence (`'x')` ends a message, `'x'):` introduces more), only what
    /// is inside varies.
    fn wrapped_var(&mut self, vals: &[u32]) -> u32 {
        let texts: Vec<&[u8]> = vals.iter().map(|&v| &*self.sym_text[v as usize]).collect();
        let punct = |b: &u8| !b.is_ascii_alphanumeric();
        let lead = texts
            .iter()
            .map(|t| t.iter().take_while(|b| punct(b)).count())
            .min()
            .unwrap_or(0);
        let trail = texts
            .iter()
            .map(|t| t.iter().rev().take_while(|b| punct(b)).count())
            .min()
            .unwrap_or(0);
        let first = texts[0];
        let mut pre = lead;
        while texts.iter().any(|t| t[..pre] != first[..pre]) {
            pre -= 1;
        }
        let mut suf = trail;
        while texts
            .iter()
            .any(|t| t[t.len() - suf..] != first[first.len() - suf..])
        {
            suf -= 1;
        }
        if (pre == 0 && suf == 0) || texts.iter().any(|t| pre + suf >= t.len()) {
            return VAR_SYM;
        }
        let mut w = first[..pre].to_vec();
        w.extend_from_slice(VAR);
        w.extend_from_slice(&first[first.len() - suf..]);
        self.intern(&w)
    }

    /// What a position holding `vals` becomes once it is a variable: `key=<*>` when all are
    /// values of one key (the key is the event's text, only the value varies), else `<*>`.
    fn var_for(&mut self, vals: &[u32]) -> u32 {
        let key = self.kv_key[vals[0] as usize];
        if key == 0 || vals.iter().any(|&v| self.kv_key[v as usize] != key) {
            return self.wrapped_var(vals);
        }
        let t = &self.sym_text[vals[0] as usize];
        let Some(eq) = memchr::memchr(b'=', t) else {
            return VAR_SYM;
        };
        let mut k = t[..=eq].to_vec();
        k.extend_from_slice(VAR);
        self.intern(&k)
    }

    /// Whether a token names something rather than says something: it has a letter, and a
    /// dot, underscore, hyphen, `@` or quote-wrapped such (`api.example.com`,
    /// `'sync_crm_contacts'`, `web-a`) — not a plain word, not a path.
    fn identifier_like(&self, s: u32) -> bool {
        if s == VAR_SYM {
            return true;
        }
        let t = &self.sym_text[s as usize];
        if is_quoted(t) || (self.kv_key[s as usize] != 0 && !t.ends_with(b"=")) {
            return true;
        }
        !self.wordlike[s as usize]
            && !t.starts_with(b"/")
            && t.iter().any(u8::is_ascii_alphabetic)
            && t.iter().any(|b| matches!(b, b'.' | b'_' | b'-' | b'@'))
    }

    /// A `key=value` whose value is a plain word (`mode=read-only`, `kind="Readiness"`): the
    /// word may be what happened, so it does not vary *together* with a name of the sentence
    /// (see [`Miner::merge_identifiers`]; beside other `key=value` pairs it is one attribute of
    /// a record among others); it still becomes a variable when it shows enough values.
    fn plain_kv(&self, s: u32) -> bool {
        let t = &self.sym_text[s as usize];
        self.kv_key[s as usize] != 0
            && memchr::memchr(b'=', t).is_some_and(|e| {
                let v = &t[e + 1..];
                crate::mask::is_plain_value(v.strip_suffix(b",").unwrap_or(v))
            })
    }

    /// Merges `idx` with a template of the same length that differs from it at two to a quarter
    /// of its positions, all holding identifier-like tokens on both sides: names that vary
    /// together (a server and its host header, a DAG, its task and its file) are variables the
    /// first time they are seen to vary.
    fn merge_identifiers(&mut self, idx: TemplateIdx) {
        if self.templates.len() > MAX_TEMPLATES_FOR_MERGES {
            return;
        }
        let me = self.templates[idx as usize].toks.clone();
        let n = me.len();
        let max_diff = (n / 4).max(2);
        let live = self.by_len.get(&n).cloned().unwrap_or_default();
        for o in live {
            if o == idx || self.templates[o as usize].parent != o {
                continue;
            }
            let ot = &self.templates[o as usize].toks;
            let diff: Vec<usize> = (0..n).filter(|&p| me[p] != ot[p]).collect();
            if diff.len() < 2
                || diff.len() > max_diff
                || (diff.iter().any(|&p| self.kv_key[me[p] as usize] == 0)
                    && diff
                        .iter()
                        .any(|&p| self.plain_kv(me[p]) && self.plain_kv(ot[p])))
                || !diff.iter().all(|&p| {
                    same_wrap(self.wrap[me[p] as usize], self.wrap[ot[p] as usize])
                        && self.identifier_like(me[p])
                        && self.identifier_like(ot[p])
                        && self.kv_key[me[p] as usize] == self.kv_key[ot[p] as usize]
                })
            {
                continue;
            }
            let ot = ot.clone();
            let mut general = me.clone();
            for &p in &diff {
                general[p] = self.var_for(&[me[p], ot[p]]);
            }
            if !self.anchored(&general) {
                continue;
            }
            let keep = self.unite(vec![idx, o], general);
            self.merge_siblings(keep);
            self.merge_identifiers(keep);
            return;
        }
    }

    /// The most specific tail template whose prefix takes the start of `toks` (with at least one
    /// token left for the tail).
    fn tail_for(&self, toks: &[u32]) -> Option<TemplateIdx> {
        let mut best: Option<(usize, TemplateIdx)> = None;
        for &t in &self.tails {
            let pre = &self.templates[t as usize].toks;
            if toks.len() > pre.len() && self.accepts(pre, &toks[..pre.len()]) {
                let consts = pre.iter().filter(|&&s| s != VAR_SYM).count();
                if best.is_none_or(|(c, _)| consts > c) {
                    best = Some((consts, t));
                }
            }
        }
        best.map(|(_, t)| t)
    }

    /// Makes a tail template when [`TAIL_VALUES`] live templates (any lengths) share the first
    /// tokens of `idx` and differ after them in free text: a long enough constant prefix (at
    /// least [`TAIL_PREFIX`] tokens, two of them constants, and half of the longest member or
    /// four constants), tails that are not all single words (those are the sibling merge's
    /// business) nor all led by a word in capitals, and pairwise different. A message that
    /// ends in a commit message, an exception's text or a name of several words is one
    /// template.
    fn merge_tails(&mut self, idx: TemplateIdx) {
        if self.templates.len() > MAX_TEMPLATES_FOR_MERGES {
            return;
        }
        let me = self.templates[idx as usize].toks.clone();
        if self.templates[idx as usize].tail || me.len() <= TAIL_PREFIX {
            return;
        }
        let mut others: Vec<(TemplateIdx, usize)> = Vec::new();
        for live in self.by_len.values() {
            for &o in live {
                if o == idx {
                    continue;
                }
                let ot = &self.templates[o as usize].toks;
                let common = me.iter().zip(ot).take_while(|(a, b)| a == b).count();
                if common >= TAIL_PREFIX && common < me.len() && common < ot.len() {
                    others.push((o, common));
                }
            }
        }
        // The longest prefix shared with enough others.
        for c in (TAIL_PREFIX..me.len()).rev() {
            let group: Vec<TemplateIdx> = others
                .iter()
                .filter(|&&(_, common)| common >= c)
                .map(|&(o, _)| o)
                .collect();
            if group.len() + 1 < TAIL_VALUES {
                continue;
            }
            let prefix = &me[..c];
            let consts = prefix
                .iter()
                .filter(|&&s| !self.varlike[s as usize])
                .count();
            let longest = group
                .iter()
                .map(|&o| self.templates[o as usize].toks.len())
                .chain([me.len()])
                .max()
                .unwrap_or(0);
            // Free text, not a structured tail (`NEW to UNASSIGNED`, an optional `user=root`,
            // `root by (uid=0)`): the tails start with different words, end with different
            // words, and differ in length.
            let tails: Vec<&[u32]> = group
                .iter()
                .map(|&o| &self.templates[o as usize].toks[c..])
                .chain([&me[c..]])
                .collect();
            let distinct = |f: &dyn Fn(&[u32]) -> usize| {
                let mut v: Vec<usize> = tails.iter().map(|t| f(t)).collect();
                v.sort_unstable();
                v.dedup();
                v.len()
            };
            // Tails that all start with a word in capitals start with an enumeration
            // (`JOB_SETUP`, `TASK_ABORT for <*>`): structure, not prose.
            let enumerated = tails.iter().all(|t| is_caps(&self.sym_text[t[0] as usize]));
            let free_text = !enumerated
                && distinct(&|t| t[0] as usize) >= TAIL_VALUES
                && distinct(&|t| t[t.len() - 1] as usize) >= 2
                && distinct(&|t| t.len()) >= 2;
            if consts < 2 || (c * 2 < longest && consts < 4) || !free_text {
                continue;
            }
            let keep = self.templates.len() as TemplateIdx;
            self.templates.push(Template {
                toks: prefix.to_vec(),
                parent: keep,
                tail: true,
            });
            // Every live template the prefix takes (with a tail left) joins it.
            let mut members = Vec::new();
            for live in self.by_len.values() {
                for &o in live {
                    let ot = &self.templates[o as usize].toks;
                    if ot.len() > c && self.accepts(prefix, &ot[..c]) {
                        members.push(o);
                    }
                }
            }
            for &o in &self.tails {
                let ot = &self.templates[o as usize].toks;
                if ot.len() > c && self.accepts(prefix, &ot[..c]) {
                    members.push(o);
                }
            }
            for &o in &members {
                self.templates[o as usize].parent = keep;
            }
            let templates = &self.templates;
            for v in self.by_len.values_mut() {
                v.retain(|&o| templates[o as usize].parent == o);
            }
            self.tails.retain(|&o| templates[o as usize].parent == o);
            self.tails.push(keep);
            return;
        }
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
            // A URL path (a request's route, its variable segments already masked) is what the
            // request is about, never a variable as a whole. (Only a bare one: a quoted or
            // bracketed path here may be a value, unlike in [`is_route`]'s uses.)
            let text = &self.sym_text[me[p] as usize];
            // So is what follows an HTTP method (`GET "/up"`).
            let after_method =
                p > 0 && crate::mask::METHODS.contains(&&*self.sym_text[me[p - 1] as usize]);
            if me[p] == VAR_SYM
                || after_method
                || self.kv_var[me[p] as usize]
                || text.starts_with(b"/")
                || memchr::memmem::find(text, b"://").is_some()
            {
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
                        && same_wrap(self.wrap[ot[p] as usize], self.wrap[me[p] as usize])
                        && ot
                            .iter()
                            .zip(me.iter())
                            .enumerate()
                            .all(|(q, (a, b))| q == p || a == b)
                })
                .collect();
            let words = self.wordlike[me[p] as usize]
                && sibs
                    .iter()
                    .all(|&o| self.wordlike[self.templates[o as usize].toks[p] as usize]);
            // Beside a single fixed token (`[Step] stage`, `[Step] }`, `removing echo`) a
            // word or symbol may be the message itself, whose few values are the events: it
            // takes many values to show it is a variable. Names (`db.main: Creating...`) are
            // variables as usual.
            let name = |s: u32| self.identifier_like(s) || self.purevar[s as usize];
            let names = name(me[p])
                && sibs
                    .iter()
                    .all(|&o| name(self.templates[o as usize].toks[p]));
            let lone = !names
                && general
                    .iter()
                    .filter(|&&s| !self.purevar[s as usize])
                    .count()
                    < 2;
            let after_var = p > 0 && self.varlike[me[p - 1] as usize];
            let caps = !after_var
                && is_caps(&self.sym_text[me[p] as usize])
                && sibs
                    .iter()
                    .all(|&o| is_caps(&self.sym_text[self.templates[o as usize].toks[p] as usize]));
            let need = if lone {
                LONE_VALUES
            } else if caps {
                CAPS_VALUES
            } else if words {
                WORD_VALUES
            } else {
                SIBLING_VALUES
            };
            if sibs.len() + 1 >= need {
                let mut all = sibs;
                all.push(idx);
                let vals: Vec<u32> = all
                    .iter()
                    .map(|&o| self.templates[o as usize].toks[p])
                    .collect();
                let mut general = general;
                general[p] = self.var_for(&vals);
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
        let empty = Vec::new();
        let live = self.by_len.get(&toks.len()).unwrap_or(&empty);
        let mut best: Option<(usize, TemplateIdx)> = None;
        for &t in live {
            let tpl = &self.templates[t as usize].toks;
            let mut anchored: Option<bool> = None;
            let ok = tpl.iter().zip(&toks).all(|(&a, &b)| {
                a == b
                    || ((a == VAR_SYM || (b != u32::MAX && self.takes(a, b)))
                        && *anchored.get_or_insert_with(|| self.anchored(tpl)))
            });
            if ok {
                let consts = tpl.iter().filter(|&&s| s != VAR_SYM).count();
                if best.is_none_or(|(c, _)| consts > c) {
                    best = Some((consts, t));
                }
            }
        }
        if best.is_none() && !toks.contains(&u32::MAX) {
            return self.tail_for(&toks);
        }
        best.map(|(_, t)| t).or_else(|| {
            // Unknown tokens can still be a tail.
            self.tails.iter().copied().find(|&t| {
                let pre = &self.templates[t as usize].toks;
                toks.len() > pre.len()
                    && pre
                        .iter()
                        .zip(&toks)
                        .all(|(&a, &b)| a == b || (a == VAR_SYM && self.anchored(pre)))
            })
        })
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
            out.extend(self.sym_text[s as usize].iter().map(|&b| {
                if b == crate::mask::GROUP_SPACE {
                    b' '
                } else {
                    b
                }
            }));
        }
        if tpl.tail {
            out.extend_from_slice(b" <*>");
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
    fn plain_words_become_a_variable_at_four_values_identifiers_at_three() {
        let mut m = Miner::new();
        let a = m.add(b"Invalid user alice from <*>");
        let b = m.add(b"Invalid user bob from <*>");
        let c = m.add(b"Invalid user carol from <*>");
        assert_ne!(
            m.resolve(a),
            m.resolve(c),
            "three plain words are still meaning"
        );
        let d = m.add(b"Invalid user dave from <*>");
        assert_eq!(m.resolve(a), m.resolve(d));
        assert_eq!(m.resolve(b), m.resolve(c));
        assert_eq!(m.text(d), "Invalid user <*> from <*>");
        let e = m.add(b"Invalid user eve from <*>");
        assert_eq!(m.resolve(e), m.resolve(a));
        let mut m = Miner::new();
        let a = m.add(b"Task shop.tasks.a received now");
        m.add(b"Task shop.tasks.b received now");
        let c = m.add(b"Task shop.tasks.c received now");
        assert_eq!(m.resolve(a), m.resolve(c));
        assert_eq!(m.text(c), "Task <*> received now");
    }

    #[test]
    fn identifiers_that_vary_together_merge_at_once() {
        let mut m = Miner::new();
        let a = m.add(b"timed out, server: shop.example.com, host: \"shop.example.com\"");
        let b = m.add(b"timed out, server: api.example.com, host: \"api.example.com\"");
        assert_eq!(m.resolve(a), m.resolve(b));
    }

    #[test]
    fn parentheticals_vary_as_names_and_compare_word_by_word() {
        let s = |t: &str| t.replace('_', &(crate::mask::GROUP_SPACE as char).to_string());
        let mut m = Miner::new();
        let a = m.add(s("[Step] { (Warm_up_caches)").as_bytes());
        let b = m.add(s("[Step] { (Build)").as_bytes());
        assert_ne!(m.resolve(a), m.resolve(b));
        let c = m.add(s("[Step] { (Ship_it)").as_bytes());
        assert_eq!(m.resolve(a), m.resolve(c));
        assert_eq!(m.resolve(a), m.resolve(b));
        assert_eq!(m.text(c), "[Step] { (<*>)");
        // Two readings of one outcome stay two events.
        let mut m = Miner::new();
        let a = m.add(s("denied for <*> (using_password:_YES)").as_bytes());
        let b = m.add(s("denied for <*> (using_password:_NO)").as_bytes());
        assert_ne!(m.resolve(a), m.resolve(b));
        // Word by word, a masked word takes the same word with a value there.
        let mut m = Miner::new();
        let a = m.add(s("deferred (connect_to_<*>[<*>]:<*>:_timed_out)").as_bytes());
        let b = m.add(s("deferred (connect_to_mx[<*>]:<*>:_timed_out)").as_bytes());
        assert_eq!(m.resolve(a), m.resolve(b));
        let c = m.add(s("deferred (connect_to_mx[<*>]:<*>:_refused)").as_bytes());
        assert_ne!(m.resolve(a), m.resolve(c));
    }

    #[test]
    fn a_plain_word_value_does_not_vary_together_with_a_name() {
        // The mode is what happened; the job name beside it is the variable.
        let mut m = Miner::new();
        let a = m.add(b"queued with mode=write-through job billing.rollup_daily");
        let b = m.add(b"queued with mode=write-back job crm.sync_contacts");
        assert_ne!(m.resolve(a), m.resolve(b));
        // Names become a variable at three values, each mode its own event.
        m.add(b"queued with mode=write-back job ops.vacuum_all");
        let c = m.add(b"queued with mode=write-back job billing.rollup_daily");
        assert_eq!(m.resolve(c), m.resolve(b));
        assert_eq!(m.text(c), "queued with mode=write-back job <*>");
        assert_ne!(m.resolve(a), m.resolve(b));
        // Attributes of one record (`key=value` beside `key=value`) vary together as usual.
        let mut m = Miner::new();
        let a = m.add(b"client id=<*> name=alpha cmd=get age=<*>");
        let b = m.add(b"client id=<*> name=beta cmd=set age=<*>");
        assert_eq!(m.resolve(a), m.resolve(b));
    }

    #[test]
    fn free_text_tails_become_one_variable() {
        let mut m = Miner::new();
        let a = m.add(b"HEAD is now at <*> Fix flaky checkout test");
        m.add(b"HEAD is now at <*> ci: cache modules");
        let c = m.add(b"HEAD is now at <*> Handle empty wishlist page");
        assert_eq!(m.resolve(a), m.resolve(c));
        assert_eq!(m.text(a), "HEAD is now at <*> <*>");
        let d = m.add(b"HEAD is now at <*> Merge pull request <*> from x");
        assert_eq!(m.resolve(d), m.resolve(a));
        // A structured tail is not free text.
        let mut m = Miner::new();
        let a = m.add(b"<*> Transitioned from NEW to SCHEDULED");
        m.add(b"<*> Transitioned from SCHEDULED to RUNNING");
        let c = m.add(b"<*> Transitioned from RUNNING to SUCCEEDED");
        assert_ne!(m.resolve(a), m.resolve(c));
    }

    #[test]
    fn quoted_words_are_names_and_vary_at_three_values() {
        let mut m = Miner::new();
        let a = m.add(b"mounted volume 'alpha' for pod <*>");
        m.add(b"mounted volume 'beta' for pod <*>");
        let c = m.add(b"mounted volume 'gamma' for pod <*>");
        assert_eq!(m.resolve(a), m.resolve(c));
        // Backslash-escaped quotes (a message quoted inside a quoted field) too.
        let mut m = Miner::new();
        let a = m.add(br#"attached disk \"red\" to <*>"#);
        m.add(br#"attached disk \"green\" to <*>"#);
        let c = m.add(br#"attached disk \"blue\" to <*>"#);
        assert_eq!(m.resolve(a), m.resolve(c));
        // Two quoted values that vary together are names at once.
        let mut m = Miner::new();
        let a = m.add(b"granted 'reader' on 'sales' to <*>");
        let b = m.add(b"granted 'writer' on 'hr' to <*>");
        assert_eq!(m.resolve(a), m.resolve(b));
        assert!(is_quoted(b"`nightly.job',") && is_quoted(b"(\"x\")"));
        assert!(!is_quoted(b"\"two") && !is_quoted(b"''") && !is_quoted(b"word"));
    }

    #[test]
    fn key_value_pairs_vary_as_values_and_keep_their_keys() {
        let mut m = Miner::new();
        let a = m.add(b"session open user=ann realm=east");
        let b = m.add(b"session open user=bob realm=west");
        assert_eq!(m.resolve(a), m.resolve(b));
        assert_eq!(m.text(a), "session open user=<*> realm=<*>");
        // The key stays: another key at that position is another event.
        let c = m.add(b"session open group=ops realm=north");
        assert_ne!(m.resolve(c), m.resolve(a));
        let d = m.add(b"session open user=cy realm=south");
        assert_eq!(m.resolve(d), m.resolve(a));
        // One position, four plain values: `key=<*>`, not a bare `<*>`.
        let mut m = Miner::new();
        for db in ["shop", "auth", "stock", "books"] {
            m.add(format!("opened database={db} for <*>").as_bytes());
        }
        let e = m.add(b"opened database=users for <*>");
        assert_eq!(m.text(e), "opened database=<*> for <*>");
    }

    #[test]
    fn a_word_beside_one_fixed_token_needs_many_values() {
        let mut m = Miner::new();
        let steps = ["build", "test", "lint", "deploy", "{", "}", "publish"];
        let ids: Vec<_> = steps
            .iter()
            .map(|w| m.add(format!("[Step] {w}").as_bytes()))
            .collect();
        for (i, a) in ids.iter().enumerate() {
            for b in &ids[i + 1..] {
                assert_ne!(m.resolve(*a), m.resolve(*b), "each step is its own event");
            }
        }
        // Many values: a variable after all.
        let mut m = Miner::new();
        let first = m.add(b"unloading alpha");
        for w in [
            "beta", "gamma", "delta", "eps", "zeta", "eta", "theta", "iota",
        ] {
            m.add(format!("unloading {w}").as_bytes());
        }
        let ninth = m.add(b"unloading iota");
        assert_ne!(m.resolve(first), m.resolve(ninth));
        let last = m.add(b"unloading kappa");
        assert_eq!(m.resolve(first), m.resolve(last));
        assert_eq!(m.text(last), "unloading <*>");
        // Names beside one fixed token vary as usual.
        let mut m = Miner::new();
        let a = m.add(b"svc.alpha: Starting...");
        m.add(b"svc.beta: Starting...");
        let c = m.add(b"svc.gamma: Starting...");
        assert_eq!(m.resolve(a), m.resolve(c));
    }

    #[test]
    fn words_in_capitals_are_an_enumeration_unless_they_qualify_a_value() {
        let mut m = Miner::new();
        let acts = ["CREATE", "READ", "UPDATE", "DELETE", "PURGE"];
        let ids: Vec<_> = acts
            .iter()
            .map(|w| m.add(format!("store {w} done for <*>").as_bytes()))
            .collect();
        assert_ne!(
            m.resolve(ids[0]),
            m.resolve(ids[4]),
            "five actions are five events"
        );
        let sixth = m.add(b"store MERGE done for <*>");
        assert_eq!(
            m.resolve(ids[0]),
            m.resolve(sixth),
            "six values: a variable"
        );
        // After a number, a word in capitals is its unit and varies with it.
        let mut m = Miner::new();
        let ids: Vec<_> = ["KRW", "NOK", "DKK", "PLN"]
            .iter()
            .map(|c| m.add(format!("charged <*> {c} to card <*>").as_bytes()))
            .collect();
        assert_eq!(m.resolve(ids[0]), m.resolve(ids[3]));
        assert!(is_caps(b"UPDATE\"") && is_caps(b"UP_FOR_RETRY;") && !is_caps(b"Update"));
    }

    #[test]
    fn a_partly_masked_token_takes_the_same_value_without_digits() {
        // `(refs/tags/v7)` was masked for its digit; `(refs/tags/stable)` is the same field.
        let mut m = Miner::new();
        let a = m.add(b"building ref <*> (<*>) now");
        let b = m.add(b"building ref <*> (refs/tags/stable) now");
        assert_eq!(m.resolve(a), m.resolve(b));
        // In either order.
        let mut m = Miner::new();
        let b = m.add(br"D:\runs\nightly>make all");
        let a = m.add(br"D:<*>>make all");
        assert_eq!(m.resolve(a), m.resolve(b));
        // The fixed text around the variable must match, and a route is never taken.
        let c = m.add(br"E:\runs\nightly>make all");
        assert_ne!(m.resolve(a), m.resolve(c));
        let mut m = Miner::new();
        let a = m.add(b"served GET \"<*>\" in <*>");
        let b = m.add(b"served GET \"/health\" in <*>");
        assert_ne!(m.resolve(a), m.resolve(b));
    }

    #[test]
    fn four_fixed_words_anchor_a_template_with_many_masked_fields() {
        let mut m = Miner::new();
        let users = ["ann", "bob", "cy", "dee", "eve"];
        let ids: Vec<_> = users
            .iter()
            .map(|u| {
                m.add(format!("Granted token for {u} from <*> via <*> <*> <*>:<*> <*>").as_bytes())
            })
            .collect();
        assert_eq!(m.resolve(ids[0]), m.resolve(ids[4]));
        assert_eq!(
            m.text(ids[0]),
            "Granted token for <*> from <*> via <*> <*> <*>:<*> <*>"
        );
    }

    #[test]
    fn a_variable_keeps_its_wrapping_and_wrappings_stay_apart() {
        let mut m = Miner::new();
        let a = m.add(b"dropped link <*> for 'ann')");
        m.add(b"dropped link <*> for 'bob')");
        m.add(b"dropped link <*> for 'cy')");
        let d = m.add(b"dropped link <*> for 'dee'):");
        m.add(b"dropped link <*> for 'eve'):");
        let f = m.add(b"dropped link <*> for 'fay'):");
        assert_eq!(m.text(a), "dropped link <*> for '<*>')");
        assert_eq!(m.text(f), "dropped link <*> for '<*>'):");
        assert_ne!(
            m.resolve(a),
            m.resolve(d),
            "`):` says more follows: another event"
        );
        assert_eq!(m.resolve(d), m.resolve(f));
        // A bare `-` (nothing written) still joins the values around it.
        let mut m = Miner::new();
        let a = m.add(b"flags UH set on <*>");
        m.add(b"flags - set on <*>");
        let c = m.add(b"flags UF,URX set on <*>");
        assert_eq!(m.resolve(a), m.resolve(c));
        assert!(same_wrap(wrap_of(b"<*>,"), wrap_of(b"LOCAL(<*>),")));
        assert!(!same_wrap(wrap_of(b"'<*>')"), wrap_of(b"'<*>'):")));
    }

    #[test]
    fn a_long_free_text_tail_does_not_hide_a_four_word_prefix() {
        let mut m = Miner::new();
        let a = m.add(b"tag moved onto commit <*> Tidy the readme");
        m.add(b"tag moved onto commit <*> Merge branch <*> of <*> into main");
        let c = m.add(b"tag moved onto commit <*> Bump lockfile");
        assert_eq!(m.resolve(a), m.resolve(c));
        // Tails led by an enumeration are structure.
        let mut m = Miner::new();
        let a = m.add(b"handling the queued event Kind: SLOT_OPEN for slot <*> owner <*>");
        m.add(b"handling the queued event Kind: PHASE_INIT");
        let c = m.add(b"handling the queued event Kind: SLOT_DROP now");
        assert_ne!(m.resolve(a), m.resolve(c));
    }

    #[test]
    fn what_follows_an_http_method_is_never_made_a_variable() {
        let mut m = Miner::new();
        let ids: Vec<_> = ["\"/cart\"", "\"/ping\"", "\"/items/<*>\"", "\"/login\""]
            .iter()
            .map(|r| m.add(format!("Began GET {r} from <*> at <*>").as_bytes()))
            .collect();
        assert_ne!(
            m.resolve(ids[0]),
            m.resolve(ids[3]),
            "each route is its own event"
        );
    }

    #[test]
    fn alternating_words_stay_apart() {
        let mut m = Miner::new();
        let a = m.add(b"session opened for user root");
        let b = m.add(b"session closed for user root");
        assert_ne!(m.resolve(a), m.resolve(b));
    }
}
