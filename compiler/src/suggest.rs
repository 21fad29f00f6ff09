//! "Did you mean" suggestions for misspelled names.

/// The candidate closest to `name`, if one is close enough to be a likely typo: at most a third
/// of the name's length in edits (at least one), and case differences are nearly free.
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let limit = (name.chars().count() / 3).max(1);
    let lower = name.to_lowercase();
    let mut best: Option<(usize, &'a str)> = None;
    for candidate in candidates {
        if candidate == name {
            continue;
        }
        let distance = if candidate.to_lowercase() == lower {
            0
        } else {
            strsim::damerau_levenshtein(&lower, &candidate.to_lowercase())
        };
        if distance <= limit && best.is_none_or(|(d, c)| (distance, candidate) < (d, c)) {
            best = Some((distance, candidate));
        }
    }
    best.map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::did_you_mean;

    #[test]
    fn finds_close_names_only() {
        let names = ["receiver", "sender", "timeout"];
        assert_eq!(did_you_mean("recever", names), Some("receiver"));
        assert_eq!(did_you_mean("Sender", names), Some("sender"));
        assert_eq!(did_you_mean("zzz", names), None);
    }
}
