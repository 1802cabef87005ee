//! Case conversions shared by the resolver (JSON-RPC names, error codes), the lints
//! (suggested names) and the emitters (identifiers). Depends on nothing.

/// `UserService` → `userService`; `get_user` → `getUser`.
pub fn lower_camel(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper_next = false;
    for (i, c) in name.chars().enumerate() {
        if c == '_' {
            upper_next = !out.is_empty();
            continue;
        }
        if i == 0 || out.is_empty() {
            out.extend(c.to_lowercase());
        } else if upper_next {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        upper_next = false;
    }
    out
}

/// protoc's default JSON name of a field (`user_id` → `userId`): one definition with the
/// runtime's transcoder, in `svcc-rules`.
pub use svcc_rules::protobuf_json_name;

/// `UserNotFound` → `USER_NOT_FOUND`.
pub fn upper_snake(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    let chars: Vec<char> = name.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            let prev = chars[i - 1];
            let next_lower = chars.get(i + 1).is_some_and(char::is_ascii_lowercase);
            if prev.is_ascii_lowercase()
                || prev.is_ascii_digit()
                || (prev.is_ascii_uppercase() && next_lower)
            {
                out.push('_');
            }
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}

/// `send_message` → `SendMessage`; `UserService` stays.
pub fn upper_camel(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut up = true;
    for c in name.chars() {
        if c == '_' {
            up = true;
        } else if up {
            out.extend(c.to_uppercase());
            up = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// `UserNotFound` → `user_not_found`; names already in snake case are returned as they are.
pub fn snake(name: &str) -> String {
    if name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        return name.to_string();
    }
    upper_snake(name).to_ascii_lowercase()
}

/// A Kafka topic (`user.created`, `orders-v2`) as snake words for a name (`user_created`,
/// `orders_v2`): every character that is not an ASCII letter or digit separates words.
pub fn topic_words(topic: &str) -> String {
    topic
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jsonrpc_names_are_lower_camel() {
        assert_eq!(lower_camel("UserService"), "userService");
        assert_eq!(lower_camel("send_message"), "sendMessage");
        assert_eq!(lower_camel("_private"), "private");
    }

    #[test]
    fn error_codes_are_upper_snake() {
        assert_eq!(upper_snake("UserNotFound"), "USER_NOT_FOUND");
        assert_eq!(upper_snake("HTTPError"), "HTTP_ERROR");
        assert_eq!(upper_snake("Oauth2Failed"), "OAUTH2_FAILED");
    }

    #[test]
    fn type_names_are_upper_camel_and_fields_snake() {
        assert_eq!(upper_camel("send_message"), "SendMessage");
        assert_eq!(upper_camel("UserService"), "UserService");
        assert_eq!(upper_camel("__a_b"), "AB");
        assert_eq!(snake("UserNotFound"), "user_not_found");
        assert_eq!(snake("get_user2"), "get_user2");
        assert_eq!(snake("HTTPError"), "http_error");
    }
}
