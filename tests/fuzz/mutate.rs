//! Seeds → hostile variants, without coverage feedback (stable Rust, no extra tool or crate):
//! byte-level mutations (flips, truncations, repeated ranges, tokens of the format spliced in,
//! crossover between seeds), and for JSON a structure-aware mutation of the parsed tree
//! (nodes replaced by values of other types, keys added or dropped, deep wrapping, hostile
//! strings and numbers), so most inputs get past the syntax check into the code behind it.

use fastrand::Rng;
use serde_json::{Map, Value};

/// Inputs are cut to this size: big enough for every structure, small enough to stay fast.
pub const MAX_LEN: usize = 64 * 1024;

/// Bytes that parsers treat specially.
const INTERESTING_BYTES: &[u8] = b"\0\x01\x7f\x80\xff\"\\'{}[]:,\n\r\t #&*!|>-./@%<=";

/// Tokens of JSON (and of the strings inside it) spliced in by byte mutations.
pub const JSON_TOKENS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    "\"",
    ":",
    ",",
    "null",
    "true",
    "-0",
    "1e999",
    "-1e999",
    "18446744073709551616",
    "-9223372036854775809",
    "0.0000000000000000000000000001",
    "\"\\u0000\"",
    "\"\\ud800\"",
    "\"\\udc00\\ud800\"",
    "\\",
    "\\u",
    "../",
    "/",
    "@",
    "\u{feff}",
    "\u{202e}",
    "\"./\"",
    "\"..\"",
];

/// Strings a hostile file puts where names, versions, paths and URLs go.
const HOSTILE_STRINGS: &[&str] = &[
    "",
    " ",
    ".",
    "./",
    "./x",
    "..",
    "../..",
    "./../../etc",
    "./a/../../b",
    "/etc/passwd",
    "C:\\Windows",
    "a\\..\\b",
    "x\0y",
    "\u{202e}txt.exe",
    "😀",
    "x",
    "x@y",
    "a@b@c",
    "@scope/pkg",
    "owner/repo",
    "owner/repo/extra",
    "https://127.0.0.1/x.json",
    "http://[::1]:0/",
    "https://user:pass@host/simple/",
    "git@github.com:a/b.git",
    "ssh://git@host:22/a/b",
    "file:///etc",
    "github",
    "url",
    "git-subdir",
    "npm",
    "pip",
    "archive",
    "directory",
    "file",
    "user",
    "project",
    "local",
    "1.0.0",
    "v1.0.0",
    "01.02.03",
    "1.0.0+build.1",
    "1.0.0-rc.1",
    "^1.0.0",
    "~1.2",
    ">=1 <2 || 3.x",
    "*",
    "latest",
    "==1.0",
    "~=1.0.0",
    "sha512-AAAA",
    "0123456789abcdef0123456789abcdef01234567",
    "2026-01-01T00:00:00.000Z",
];

/// Make `n` mutated variants from seeds; each call picks a seed and stacks a few mutations.
pub struct Mutator {
    seeds: Vec<Vec<u8>>,
    tokens: Vec<Vec<u8>>,
    /// Object keys found in the seeds, for structure-aware mutations.
    keys: Vec<String>,
    /// The seeds parsed as JSON (those that are).
    trees: Vec<Value>,
}

impl Mutator {
    pub fn new(seeds: Vec<Vec<u8>>, tokens: &[&str]) -> Self {
        assert!(!seeds.is_empty(), "a fuzz target needs seeds");
        let trees: Vec<Value> = seeds
            .iter()
            .filter_map(|s| serde_json::from_slice(s).ok())
            .collect();
        let mut keys = Vec::new();
        for t in &trees {
            collect_keys(t, &mut keys);
        }
        keys.sort();
        keys.dedup();
        Self {
            seeds,
            tokens: tokens.iter().map(|t| t.as_bytes().to_vec()).collect(),
            keys,
            trees,
        }
    }

    pub fn seed(&self, rng: &mut Rng) -> &[u8] {
        &self.seeds[rng.usize(..self.seeds.len())]
    }

    /// A byte-level variant of a seed.
    pub fn bytes(&self, rng: &mut Rng) -> Vec<u8> {
        let mut data = self.seed(rng).to_vec();
        self.mutate_bytes(rng, &mut data);
        data
    }

    /// Stack 1..=8 byte mutations on `data`.
    pub fn mutate_bytes(&self, rng: &mut Rng, data: &mut Vec<u8>) {
        for _ in 0..rng.usize(1..=8) {
            self.mutate_once(rng, data);
        }
        data.truncate(MAX_LEN);
    }

    fn mutate_once(&self, rng: &mut Rng, data: &mut Vec<u8>) {
        let len = data.len();
        let at = |rng: &mut Rng| rng.usize(..=len);
        match rng.u8(..11) {
            0 if len > 0 => {
                let i = rng.usize(..len);
                data[i] ^= 1 << rng.u8(..8);
            }
            1 if len > 0 => {
                let i = rng.usize(..len);
                data[i] = INTERESTING_BYTES[rng.usize(..INTERESTING_BYTES.len())];
            }
            2 if len > 0 => {
                let start = rng.usize(..len);
                let end = (start + rng.usize(1..=16.min(len - start).max(1))).min(len);
                data.drain(start..end);
            }
            3 if len > 0 => {
                // Repeat a short range: `[` repeated becomes deep nesting, a key many keys.
                let start = rng.usize(..len);
                let end = (start + rng.usize(1..=8)).min(len);
                let times = if rng.u8(..4) == 0 {
                    rng.usize(100..=2000)
                } else {
                    rng.usize(1..=8)
                };
                let chunk = data[start..end].repeat(times);
                let i = rng.usize(start..=len);
                data.splice(i..i, chunk);
            }
            4 | 5 if !self.tokens.is_empty() => {
                let token = self.tokens[rng.usize(..self.tokens.len())].clone();
                let i = at(rng);
                if rng.bool() || i == len {
                    data.splice(i..i, token);
                } else {
                    let end = (i + rng.usize(1..=8)).min(len);
                    data.splice(i..end, token);
                }
            }
            6 if len > 0 => data.truncate(rng.usize(..len)),
            7 => {
                // Crossover: our head, another seed's tail.
                let other = self.seed(rng);
                let i = at(rng);
                let j = rng.usize(..=other.len());
                data.truncate(i);
                data.extend_from_slice(&other[j..]);
            }
            8 => {
                let i = at(rng);
                let noise: Vec<u8> = (0..rng.usize(1..=8)).map(|_| rng.u8(..)).collect();
                data.splice(i..i, noise);
            }
            9 => {
                // A digit run becomes a huge or odd number.
                if let Some(i) = (0..len)
                    .map(|k| (k + rng.usize(..len.max(1))) % len.max(1))
                    .find(|&k| data.get(k).is_some_and(u8::is_ascii_digit))
                {
                    let mut end = i;
                    while end < len && data[end].is_ascii_digit() {
                        end += 1;
                    }
                    let numbers = [
                        "99999999999999999999999",
                        "-1",
                        "4294967296",
                        "1e400",
                        "0x10",
                        "00",
                    ];
                    data.splice(i..end, numbers[rng.usize(..numbers.len())].bytes());
                }
            }
            _ => {
                let s = HOSTILE_STRINGS[rng.usize(..HOSTILE_STRINGS.len())];
                let i = at(rng);
                data.splice(i..i, s.bytes());
            }
        }
    }

    /// A JSON variant: mostly a mutated tree serialised (valid JSON that reaches the schema
    /// code), sometimes with byte mutations on top, sometimes byte mutations only.
    pub fn json(&self, rng: &mut Rng) -> Vec<u8> {
        if self.trees.is_empty() || rng.u8(..5) == 0 {
            return self.bytes(rng);
        }
        let mut tree = self.trees[rng.usize(..self.trees.len())].clone();
        for _ in 0..rng.usize(1..=6) {
            if size_up_to(&tree, MAX_LEN) >= MAX_LEN {
                break;
            }
            self.mutate_tree(rng, &mut tree, 0);
        }
        let mut out = if rng.bool() {
            serde_json::to_vec(&tree)
        } else {
            serde_json::to_vec_pretty(&tree)
        }
        .unwrap_or_default();
        if rng.u8(..6) == 0 {
            self.mutate_bytes(rng, &mut out);
        }
        out.truncate(MAX_LEN);
        out
    }

    /// Walk to a random node and change it.
    fn mutate_tree(&self, rng: &mut Rng, v: &mut Value, depth: usize) {
        // The root is rarely replaced whole: a document of the wrong type tests one line.
        let descend = rng.u8(..if depth == 0 { 10 } else { 3 }) != 0;
        match v {
            Value::Object(m) if descend && !m.is_empty() => {
                let i = weighted_child(rng, m.values());
                if let Some((_, child)) = m.iter_mut().nth(i) {
                    return self.mutate_tree(rng, child, depth + 1);
                }
            }
            Value::Array(a) if descend && !a.is_empty() => {
                let i = weighted_child(rng, a.iter());
                return self.mutate_tree(rng, &mut a[i], depth + 1);
            }
            _ => {}
        }
        match rng.u8(..8) {
            0 | 1 => *v = self.value(rng, 0),
            2 => match v {
                Value::Object(m) if !m.is_empty() => {
                    let i = rng.usize(..m.len());
                    if let Some(k) = m.keys().nth(i).cloned() {
                        m.shift_remove(&k);
                    }
                }
                Value::Array(a) if !a.is_empty() => {
                    a.remove(rng.usize(..a.len()));
                }
                _ => *v = Value::Null,
            },
            3 => match v {
                Value::Object(m) => {
                    m.insert(self.key(rng), self.value(rng, 0));
                }
                Value::Array(a) => {
                    let extra = match a.first() {
                        Some(first) if rng.bool() => first.clone(),
                        _ => self.value(rng, 0),
                    };
                    a.push(extra);
                }
                _ => *v = Value::String(self.string(rng)),
            },
            4 => {
                // Wrap: deep nesting around real content.
                let levels = if rng.u8(..4) == 0 {
                    rng.usize(100..300)
                } else {
                    rng.usize(1..4)
                };
                let mut inner = v.take();
                for _ in 0..levels {
                    inner = if rng.bool() {
                        Value::Array(vec![inner])
                    } else {
                        let mut m = Map::new();
                        m.insert(self.key(rng), inner);
                        Value::Object(m)
                    };
                }
                *v = inner;
            }
            5 => {
                if let Value::Array(a) = v {
                    // Many copies of one element (duplicate names, many entries).
                    if let Some(first) = a.first().cloned() {
                        // Bounded: copies of copies would grow without end.
                        let room = MAX_LEN / size_up_to(&first, MAX_LEN).max(1);
                        let n = rng.usize(2..50).min(room);
                        a.extend(std::iter::repeat_n(first, n));
                    }
                } else {
                    *v = Value::String(self.string(rng));
                }
            }
            _ => {
                *v = match v {
                    Value::String(_) => Value::String(self.string(rng)),
                    _ => self.value(rng, depth),
                }
            }
        }
    }

    fn key(&self, rng: &mut Rng) -> String {
        if !self.keys.is_empty() && rng.u8(..4) != 0 {
            self.keys[rng.usize(..self.keys.len())].clone()
        } else {
            self.string(rng)
        }
    }

    fn string(&self, rng: &mut Rng) -> String {
        match rng.u8(..8) {
            0 => "a".repeat(rng.usize(1000..20_000)),
            1 if !self.keys.is_empty() => self.keys[rng.usize(..self.keys.len())].clone(),
            2 => {
                let a = HOSTILE_STRINGS[rng.usize(..HOSTILE_STRINGS.len())];
                let b = HOSTILE_STRINGS[rng.usize(..HOSTILE_STRINGS.len())];
                format!("{a}{b}")
            }
            _ => HOSTILE_STRINGS[rng.usize(..HOSTILE_STRINGS.len())].to_string(),
        }
    }

    fn value(&self, rng: &mut Rng, depth: usize) -> Value {
        let numbers = [
            serde_json::json!(0),
            serde_json::json!(-1),
            serde_json::json!(1.5),
            serde_json::json!(u64::MAX),
            serde_json::json!(i64::MIN),
            serde_json::json!(1e308),
            serde_json::json!(-0.0),
            serde_json::json!(2),
        ];
        match rng.u8(..9) {
            0 => Value::Null,
            1 => Value::Bool(rng.bool()),
            2 => numbers[rng.usize(..numbers.len())].clone(),
            3..=5 => Value::String(self.string(rng)),
            6 if depth < 3 => Value::Array(
                (0..rng.usize(0..4))
                    .map(|_| self.value(rng, depth + 1))
                    .collect(),
            ),
            7 if depth < 3 => Value::Object(
                (0..rng.usize(0..4))
                    .map(|_| (self.key(rng), self.value(rng, depth + 1)))
                    .collect(),
            ),
            _ if !self.trees.is_empty() => {
                // A piece of a real document somewhere it does not belong.
                let t = &self.trees[rng.usize(..self.trees.len())];
                pick_node(rng, t).clone()
            }
            _ => Value::Null,
        }
    }
}

/// A child picked in proportion to its size: mutations land where the document's content is
/// (the `plugins` of a catalog, not its `version`), while small fields still get their share.
fn weighted_child<'v>(rng: &mut Rng, children: impl Iterator<Item = &'v Value>) -> usize {
    let sizes: Vec<usize> = children.map(|c| size_up_to(c, 4096) + 16).collect();
    let mut pick = rng.usize(..sizes.iter().sum::<usize>());
    for (i, s) in sizes.iter().enumerate() {
        if pick < *s {
            return i;
        }
        pick -= s;
    }
    sizes.len() - 1
}

/// About how many bytes `v` serialises to, counting no further than `limit`.
fn size_up_to(v: &Value, limit: usize) -> usize {
    fn walk(v: &Value, total: &mut usize, limit: usize) {
        if *total >= limit {
            return;
        }
        *total += match v {
            Value::String(s) => s.len() + 3,
            Value::Object(m) => {
                for (k, c) in m {
                    *total += k.len() + 4;
                    walk(c, total, limit);
                }
                2
            }
            Value::Array(a) => {
                for c in a {
                    walk(c, total, limit);
                }
                2 + a.len()
            }
            _ => 5,
        };
    }
    let mut total = 0;
    walk(v, &mut total, limit);
    total
}

fn collect_keys(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                out.push(k.clone());
                collect_keys(child, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|c| collect_keys(c, out)),
        _ => {}
    }
}

fn pick_node<'v>(rng: &mut Rng, v: &'v Value) -> &'v Value {
    if rng.u8(..3) == 0 {
        return v;
    }
    match v {
        Value::Object(m) if !m.is_empty() => {
            let i = rng.usize(..m.len());
            m.values().nth(i).map_or(v, |c| pick_node(rng, c))
        }
        Value::Array(a) if !a.is_empty() => {
            let i = rng.usize(..a.len());
            pick_node(rng, &a[i])
        }
        _ => v,
    }
}
