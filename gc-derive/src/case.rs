//! The default module name: the type's name in snake_case.

/// `ImageStore` → `image_store`, `HTTPCache` → `http_cache`, `Vm2` → `vm2`.
pub fn snake_case(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::with_capacity(name.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c.is_uppercase() {
            let prev = i.checked_sub(1).map(|p| chars[p]);
            let next = chars.get(i + 1);
            let boundary = match prev {
                None => false,
                Some('_') => false,
                Some(p) if p.is_lowercase() || p.is_ascii_digit() => true,
                // The last capital of an acronym starts the next word: HTTPCache.
                Some(p) if p.is_uppercase() => next.is_some_and(|n| n.is_lowercase()),
                Some(_) => false,
            };
            if boundary {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::snake_case;

    #[test]
    fn converts_type_names() {
        for (from, to) in [
            ("ImageStore", "image_store"),
            ("HTTPCache", "http_cache"),
            ("Vm", "vm"),
            ("Vm2Store", "vm2_store"),
            ("already_snake", "already_snake"),
            ("ABC", "abc"),
        ] {
            assert_eq!(snake_case(from), to, "{from}");
        }
    }
}
