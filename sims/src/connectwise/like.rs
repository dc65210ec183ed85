//! SQL Server `LIKE` as ConnectWise conditions use it (docs/apis.md §2.3): `%` (and ConnectWise's
//! `*`) match any run of characters, `_` exactly one, `[abc]`, `[a-f]` and `[^a]` one
//! character of (or not of) a set — hence the guide's escaping of a literal `[` as `[[]`.
//! Matching ignores case, like the default collation.

/// SQL Server `LIKE` (with `*` as ConnectWise's extra wildcard), case-insensitive.
pub fn like(text: &str, pattern: &str) -> bool {
    enum P {
        Any,
        One,
        Lit(char),
        Class(bool, Vec<(char, char)>),
    }
    let pc: Vec<char> = pattern.to_lowercase().chars().collect();
    let mut pat = Vec::new();
    let mut i = 0;
    while i < pc.len() {
        match pc[i] {
            '%' | '*' => pat.push(P::Any),
            '_' => pat.push(P::One),
            '[' => match pc[i + 1..].iter().position(|&c| c == ']') {
                Some(len) => {
                    let body = &pc[i + 1..i + 1 + len];
                    let (neg, body) = match body.split_first() {
                        Some(('^', rest)) if !rest.is_empty() => (true, rest),
                        _ => (false, body),
                    };
                    let mut ranges = Vec::new();
                    let mut k = 0;
                    while k < body.len() {
                        if k + 2 < body.len() && body[k + 1] == '-' {
                            ranges.push((body[k], body[k + 2]));
                            k += 3;
                        } else {
                            ranges.push((body[k], body[k]));
                            k += 1;
                        }
                    }
                    pat.push(P::Class(neg, ranges));
                    i += len + 1;
                }
                None => pat.push(P::Lit('[')),
            },
            c => pat.push(P::Lit(c)),
        }
        i += 1;
    }
    let t: Vec<char> = text.to_lowercase().chars().collect();
    // dp[j]: pattern[..j] matches text[..i] for the current i.
    let mut dp = vec![false; pat.len() + 1];
    dp[0] = true;
    for j in 0..pat.len() {
        dp[j + 1] = dp[j] && matches!(pat[j], P::Any);
    }
    for &ch in &t {
        let mut next = vec![false; pat.len() + 1];
        for j in 0..pat.len() {
            next[j + 1] = match &pat[j] {
                P::Any => next[j] || dp[j + 1],
                P::One => dp[j],
                P::Lit(c) => dp[j] && *c == ch,
                P::Class(neg, ranges) => {
                    dp[j] && (ranges.iter().any(|&(lo, hi)| lo <= ch && ch <= hi) != *neg)
                }
            };
        }
        dp = next;
    }
    dp[pat.len()]
}

#[cfg(test)]
mod tests {
    use super::like;

    #[test]
    fn patterns() {
        assert!(like("Shared Mailbox", "%shared%"));
        assert!(like("Shared Mailbox", "SHARED*"));
        assert!(!like("Mailbox", "%shared%"));
        assert!(like("Anna", "_nna"));
        assert!(!like("Hanna", "_nna"));
        assert!(like("Baker [UK]", "%[[]UK]"));
        assert!(like("Pax8", "%[0-9]"));
        assert!(!like("Pax", "%[0-9]"));
        assert!(like("Pax", "%[^0-9]"));
        assert!(like("a[b", "a[b"), "an unclosed [ is literal");
        assert!(like("", "%"));
        assert!(!like("", "_"));
        assert!(like("ÆRØ", "ærø"));
    }
}
