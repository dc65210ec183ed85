//! Name comparison for types and services: "ignore case and surrounding spaces" (docs/contract.md §3).

/// Lower-cases, trims, and folds runs of inner white space to one space, so
/// `" Billed  User "` and `"billed user"` compare equal.
pub fn normalize(name: &str) -> String {
    name.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::normalize;

    #[test]
    fn case_and_spaces_are_ignored() {
        assert_eq!(normalize(" Billed  User "), "billed user");
        assert_eq!(normalize("ESXi Host"), normalize("esxi host"));
        assert_eq!(normalize("Café"), "café");
        assert_ne!(normalize("Billed User"), normalize("BilledUser"));
    }
}
