//! Every error code with its long explanation (`svcc explain E0xxx`): what it means, an
//! example that triggers it and the fix. A test checks that every code the compiler can emit
//! is listed here and has a UI test.

/// One entry of `svcc explain`.
#[derive(Debug)]
pub struct Code {
    pub code: &'static str,
    pub title: &'static str,
    pub explanation: &'static str,
    pub wrong: &'static str,
    pub fixed: &'static str,
}

const fn c(
    code: &'static str,
    title: &'static str,
    explanation: &'static str,
    wrong: &'static str,
    fixed: &'static str,
) -> Code {
    Code {
        code,
        title,
        explanation,
        wrong,
        fixed,
    }
}

pub static CODES: &[Code] = &[
    c(
        "E0001",
        "syntax error",
        "The file does not follow the grammar of the language. The message says what was expected \
       and where; the most common causes are a missing `;` after a field or method, a missing \
       `:` before a type, and a keyword used where a declaration name is expected.",
        "package demo.v1;\n\ntype User {\n  name @1: string\n  email @2: string;\n}",
        "package demo.v1;\n\ntype User {\n  name @1: string;\n  email @2: string;\n}",
    ),
    c(
        "E0002",
        "file is not valid UTF-8",
        "`.svc` files are UTF-8 text. The file holds a byte sequence that is not UTF-8, often \
       because it was saved as Latin-1 or UTF-16.",
        "// saved as Latin-1: caf\\xE9\npackage demo.v1;",
        "// saved as UTF-8: café\npackage demo.v1;",
    ),
    c(
        "E0003",
        "file contains a NUL byte",
        "A NUL byte never appears in a text file; the file is probably binary or was corrupted.",
        "package demo.v1;\\0",
        "package demo.v1;",
    ),
    c(
        "E0004",
        "unterminated string",
        "A string literal must be closed by `\"` on the same line. Strings cannot span lines; \
       write `\\n` for a line break.",
        "@title(\"Messenger API)\npackage demo.v1;",
        "@title(\"Messenger API\")\npackage demo.v1;",
    ),
    c(
        "E0005",
        "unterminated block comment",
        "A `/*` comment must be closed by `*/`. Block comments do not nest.",
        "/* draft\npackage demo.v1;",
        "/* draft */\npackage demo.v1;",
    ),
    c(
        "E0006",
        "nesting too deep",
        "Brackets (`<`, `(`, `[`, `{`) are nested more than 64 levels. No real contract needs \
       this; the limit protects the compiler from running out of stack.",
        "type T = list<list<list<list< ... 70 levels ... >>>>;",
        "type Inner = list<string>;\ntype T = list<Inner>;",
    ),
    c(
        "E0007",
        "number out of range",
        "An integer literal does not fit 64 bits, a float literal is not finite, or a tag is \
       larger than any tag can be.",
        "type T { x @1: int64 = 99999999999999999999999; }",
        "type T { x @1: int64 = 9223372036854775807; }",
    ),
    c(
        "E0008",
        "unknown escape in string",
        "Strings know the escapes `\\\\`, `\\\"`, `\\n`, `\\r`, `\\t`, `\\0` and `\\u{XXXX}`. \
       A backslash before any other character is an error; in a `@pattern`, write `\\\\d` \
       for the regex `\\d`.",
        "@pattern(\"^\\d+$\") type Digits = string;",
        "@pattern(\"^\\\\d+$\") type Digits = string;",
    ),
    c(
        "E0009",
        "union variant with `?` or a default",
        "Exactly one variant of a union is present, so a variant cannot be optional and cannot \
       have a default.",
        "union Payload { text? @1: string; }",
        "union Payload { text @1: string; }",
    ),
    c(
        "E0100",
        "imported file not found",
        "An `import` names a file that exists neither relative to the importing file nor under \
       any include root (`-I DIR`).",
        "import \"../commons/page.svc\";",
        "import \"../common/page.svc\";",
    ),
    c(
        "E0101",
        "import cycle",
        "Files import each other in a cycle. The message lists the whole cycle. Move the \
       declarations both files need into a third file that both import.",
        "// a.svc\nimport \"b.svc\";\n// b.svc\nimport \"a.svc\";",
        "// a.svc\nimport \"shared.svc\";\n// b.svc\nimport \"shared.svc\";",
    ),
    c(
        "E0102",
        "cannot find a name",
        "A type or error is referenced that is not declared in the package, not brought in by an \
       import, and not a fully qualified name of a loaded package. The help suggests a close \
       name when there is one.",
        "type Chat { owner @1: Usr; }",
        "type Chat { owner @1: User; }",
    ),
    c(
        "E0103",
        "ambiguous name",
        "Two visible declarations share a simple name (for example one in the package and one in \
       an imported file). Write the fully qualified name, or import one file with `as`.",
        "import \"a.svc\"; // declares Money\nimport \"b.svc\"; // declares Money too\ntype T { m @1: Money; }",
        "import \"a.svc\";\nimport \"b.svc\" as b;\ntype T { m @1: Money; n @2: b.Money; }",
    ),
    c(
        "E0104",
        "duplicate declaration",
        "Two declarations in one package have the same name. All files of a package share one \
       namespace, so this also applies across files.",
        "type User { id @1: uuid; }\nenum User { A; }",
        "type User { id @1: uuid; }\nenum UserKind { A; }",
    ),
    c(
        "E0105",
        "import alias used twice",
        "Two imports of one file use the same `as` alias.",
        "import \"a.svc\" as x;\nimport \"b.svc\" as x;",
        "import \"a.svc\" as a;\nimport \"b.svc\" as b;",
    ),
    c(
        "E0106",
        "expected a type",
        "A name used as a type refers to a service, an error or an event. Only records, aliases, \
       enums, unions and built-in types are types.",
        "error NotFound: not_found;\ntype T { e @1: NotFound; }",
        "type Problem { message @1: string; }\ntype T { e @1: Problem; }",
    ),
    c(
        "E0107",
        "package name not lower-case",
        "Package segments are lower-case identifiers so that they map to Rust modules, protobuf \
       packages and file paths the same way everywhere.",
        "package Messenger.User.v1;",
        "package messenger.user.v1;",
    ),
    c(
        "E0108",
        "cannot read a file",
        "A file named on the command line or by an import exists but could not be read (for \
       example, permission denied or it is a directory).",
        "svcc check missing.svc",
        "svcc check contracts/",
    ),
    c(
        "E0109",
        "built-in type redeclared",
        "The built-in type names (`string`, `int32`, `uuid`, `list`, `map`, …) cannot be \
       declared again.",
        "type string = bytes;",
        "type Blob = bytes;",
    ),
    c(
        "E0200",
        "duplicate field",
        "A record, event or error declares two fields with the same name.",
        "type User { id @1: uuid; id @2: string; }",
        "type User { id @1: uuid; external_id @2: string; }",
    ),
    c(
        "E0201",
        "duplicate tag",
        "Two fields (or enum values) have the same tag. Tags identify fields on the protobuf wire \
       and must be unique. Implicit tags continue from the previous field, so an implicit tag \
       can collide with an explicit one written later.",
        "type T { a @1: string; b @1: string; }",
        "type T { a @1: string; b @2: string; }",
    ),
    c(
        "E0202",
        "tag out of range",
        "Tags (protobuf field numbers) run from 1 to 536,870,911.",
        "type T { a @0: string; }",
        "type T { a @1: string; }",
    ),
    c(
        "E0203",
        "reserved tag",
        "Tags 19,000 to 19,999 are reserved by the protobuf implementation.",
        "type T { a @19000: string; }",
        "type T { a @20000: string; }",
    ),
    c(
        "E0204",
        "duplicate method",
        "A service declares two methods with the same name.",
        "service S { rpc get(id: uuid); rpc get(name: string); }",
        "service S { rpc get(id: uuid); rpc get_by_name(name: string); }",
    ),
    c(
        "E0205",
        "duplicate enum value",
        "An enum declares the same value twice.",
        "enum Role { Admin; Admin; }",
        "enum Role { Admin; Member; }",
    ),
    c(
        "E0206",
        "duplicate union variant",
        "A union declares two variants with the same name.",
        "union P { text @1: string; text @2: bytes; }",
        "union P { text @1: string; data @2: bytes; }",
    ),
    c(
        "E0207",
        "alias cycle",
        "Aliases refer to each other in a cycle and never reach a concrete type.",
        "type A = B;\ntype B = A;",
        "type A = string;\ntype B = A;",
    ),
    c(
        "E0208",
        "record needs an infinite value",
        "A record contains itself through required fields, so no finite value can be written. \
       Make one field on the loop optional or a list.",
        "type Node { next @1: Node; }",
        "type Node { next? @1: Node; }",
    ),
    c(
        "E0209",
        "duplicate parameter or result",
        "A method has two parameters (or two results) with the same name.",
        "rpc f(a: string, a: int32);",
        "rpc f(a: string, b: int32);",
    ),
    c(
        "E0210",
        "invalid map key type",
        "Map keys must be `string`, an integer type or an enum: these are the keys JSON objects \
       and protobuf maps can carry.",
        "type T { m @1: map<float64, string>; }",
        "type T { m @1: map<string, string>; }",
    ),
    c(
        "E0211",
        "`throws` lists a non-error",
        "Only declarations made with `error` can be thrown.",
        "type NotFound { id @1: uuid; }\nservice S { rpc get(id: uuid) throws NotFound; }",
        "error NotFound: not_found { id: uuid; }\nservice S { rpc get(id: uuid) throws NotFound; }",
    ),
    c(
        "E0212",
        "unknown error kind",
        "The kind after `:` must be one of the canonical codes: cancelled, unknown, \
       invalid_argument, deadline_exceeded, not_found, already_exists, permission_denied, \
       resource_exhausted, failed_precondition, aborted, out_of_range, unimplemented, internal, \
       unavailable, data_loss, unauthenticated.",
        "error Missing: notfound;",
        "error Missing: not_found;",
    ),
    c(
        "E0213",
        "`emits` lists a non-event",
        "A method's `emits` list names the events it publishes; only declarations made with \
       `event` can be emitted. The handler receives a typed emitter for exactly these events.",
        "type Created { id @1: uuid; }\nservice S { rpc make(id: uuid) emits Created; }",
        "@topic(\"thing.created\")\nevent Created { id @1: uuid; }\nservice S { rpc make(id: uuid) \
       emits Created; }",
    ),
    c(
        "E0214",
        "event emitted twice",
        "Each event appears once in a method's `emits` list: the handler gets one emitter per \
       event.",
        "rpc make(id: uuid) emits Created, Created;",
        "rpc make(id: uuid) emits Created;",
    ),
    c(
        "E0300",
        "unknown annotation",
        "The annotation is not one of the language's annotations (see the language reference, \
       section 5). The help suggests the closest name.",
        "@lenght(max = 10) name: string,",
        "@length(max = 10) name: string,",
    ),
    c(
        "E0301",
        "annotation in the wrong place",
        "Each annotation may only stand on certain declarations; the help lists where this one \
       may stand.",
        "@length(max = 3)\nservice S { }",
        "service S { rpc f(@length(max = 3) code: string); }",
    ),
    c(
        "E0302",
        "unknown or extra argument",
        "The annotation has no argument of that name, takes no positional argument, or was given \
       more positional arguments than it takes.",
        "@length(maximum = 10)",
        "@length(max = 10)",
    ),
    c(
        "E0303",
        "missing argument",
        "A required argument of the annotation is missing.",
        "@rate_limit(limit = 10)",
        "@rate_limit(limit = 10, period = \"1s\")",
    ),
    c(
        "E0304",
        "argument of the wrong type",
        "The value given does not have the type the argument takes (a string where an integer is \
       expected, for example).",
        "@length(max = \"10\")",
        "@length(max = 10)",
    ),
    c(
        "E0305",
        "annotation given twice",
        "The annotation may appear only once at this place.",
        "@timeout(\"5s\") @timeout(\"10s\")\nrpc f();",
        "@timeout(\"10s\")\nrpc f();",
    ),
    c(
        "E0306",
        "invalid argument value",
        "The value has the right type but is not allowed: an unknown choice (`@format(emial)`), \
       a malformed duration, an unknown lint in `@allow`, or a number out of its range.",
        "@timeout(\"5 seconds\")",
        "@timeout(\"5s\")",
    ),
    c(
        "E0307",
        "argument not allowed here",
        "Some arguments only make sense in some places: `@http(prefix = …)` belongs on a package \
       or service, `@http(method = …, path = …)` on a method.",
        "@http(method = GET, path = \"/users\")\nservice UserService { … }",
        "@http(prefix = \"/api\")\nservice UserService {\n  @http(method = GET, path = \"/users\")\n  rpc list();\n}",
    ),
    c(
        "E0400",
        "constraint does not fit the type",
        "`@length` applies to strings, bytes, lists and maps; `@range` to numbers; `@pattern` and \
       `@format` to strings; `@unique` to lists. Constraints on an alias apply to its target \
       type.",
        "@length(max = 10) age @1: int32;",
        "@range(max = 150) age @1: int32;",
    ),
    c(
        "E0401",
        "minimum above maximum",
        "The bounds leave no valid value.",
        "@length(min = 10, max = 3)",
        "@length(min = 3, max = 10)",
    ),
    c(
        "E0402",
        "invalid regular expression",
        "The `@pattern` does not compile. Patterns use the Rust `regex` syntax (RE2-like: no \
       lookaround, no backreferences) and must match the whole string.",
        "@pattern(\"^[a-z+$\")",
        "@pattern(\"^[a-z]+$\")",
    ),
    c(
        "E0404",
        "literal of the wrong type",
        "A default value or `@example` is not a value of the field's type.",
        "count @1: int32 = \"ten\";",
        "count @1: int32 = 10;",
    ),
    c(
        "E0405",
        "literal breaks its constraints",
        "A default value or `@example` has the right type but violates the field's constraints \
       (including those of its alias).",
        "@length(max = 3) code @1: string = \"toolong\";",
        "@length(max = 3) code @1: string = \"abc\";",
    ),
    c(
        "E0406",
        "path parameter not bound",
        "Every `{name}` in an `@http` path must name a parameter of the method.",
        "@http(method = GET, path = \"/users/{user_id}\")\nrpc get(id: uuid) -> User;",
        "@http(method = GET, path = \"/users/{id}\")\nrpc get(id: uuid) -> User;",
    ),
    c(
        "E0407",
        "path parameter not a required scalar",
        "A parameter bound to the path must be a required scalar: a string, number, boolean, \
       uuid, date, timestamp or enum.",
        "@http(method = GET, path = \"/users/{ids}\")\nrpc get(ids: list<uuid>);",
        "@http(method = GET, path = \"/users/{id}\")\nrpc get(id: uuid);",
    ),
    c(
        "E0408",
        "route bound twice",
        "Two methods share an HTTP method and path after prefixes are applied (parameter names \
       do not distinguish routes).",
        "@http(method = GET, path = \"/users/{id}\") rpc get(id: uuid);\n@http(method = GET, path = \"/users/{name}\") rpc find(name: string);",
        "@http(method = GET, path = \"/users/{id}\") rpc get(id: uuid);\n@http(method = GET, path = \"/users/by-name/{name}\") rpc find(name: string);",
    ),
    c(
        "E0409",
        "parameter bound twice",
        "A parameter can travel in one place only: the path, the query, a header, a cookie or \
       the body.",
        "@http(method = GET, path = \"/u/{id}\")\nrpc get(@header(\"X-Id\") id: uuid);",
        "@http(method = GET, path = \"/u/{id}\")\nrpc get(id: uuid);",
    ),
    c(
        "E0410",
        "JSON-RPC method name used twice",
        "Two methods of a package would be served under the same JSON-RPC name.",
        "@jsonrpc(name = \"users.get\") rpc get(id: uuid);\n@jsonrpc(name = \"users.get\") rpc fetch(id: uuid);",
        "@jsonrpc(name = \"users.get\") rpc get(id: uuid);\n@jsonrpc(name = \"users.fetch\") rpc fetch(id: uuid);",
    ),
    c(
        "E0411",
        "`@key` does not name an event field",
        "The Kafka key of an event must be one of its fields.",
        "@topic(\"user.created\") @key(id)\nevent UserCreated { user_id @1: uuid; }",
        "@topic(\"user.created\") @key(user_id)\nevent UserCreated { user_id @1: uuid; }",
    ),
    c(
        "E0412",
        "invalid HTTP status",
        "A method's success status must be 2xx; an error's `@http_status` must be 4xx or 5xx.",
        "@http(method = POST, path = \"/users\", status = 404)",
        "@http(method = POST, path = \"/users\", status = 201)",
    ),
    c(
        "E0413",
        "invalid HTTP path",
        "Paths start with `/`, bind parameters as `{name}`, and contain no `//`, spaces, `?` or \
       `#` (query parameters are declared with `@query`).",
        "@http(method = GET, path = \"users/{id}\")",
        "@http(method = GET, path = \"/users/{id}\")",
    ),
    c(
        "E0415",
        "JSON name used twice",
        "Two fields of one record would have the same key in JSON (through `@json`).",
        "type T { a @1: string; @json(\"a\") b @2: string; }",
        "type T { a @1: string; @json(\"bee\") b @2: string; }",
    ),
    c(
        "E0416",
        "invalid JSON-RPC method name",
        "JSON-RPC method names must not be empty, and names starting with `rpc.` are reserved \
       by the specification.",
        "@jsonrpc(name = \"rpc.ping\") rpc ping();",
        "@jsonrpc(name = \"health.ping\") rpc ping();",
    ),
    c(
        "E0418",
        "`@log(skip)` names an unknown value",
        "`skip` lists parameters or results of the method (or `response` for all results).",
        "@log(skip = [pasword])\nrpc login(email: string, password: string);",
        "@log(skip = [password])\nrpc login(email: string, password: string);",
    ),
    c(
        "E0419",
        "value cannot travel in this place",
        "Headers and cookies carry scalars; query parameters carry scalars or lists of scalars. \
       Records, unions, maps and `any` travel in the JSON body.",
        "@http(method = GET, path = \"/search\")\nrpc search(filter: Filter);",
        "@http(method = POST, path = \"/search\")\nrpc search(filter: Filter);",
    ),
    c(
        "E0420",
        "error payload field named `code`",
        "A declared error's payload travels in JSON-RPC `error.data` next to the key `code`, which \
       holds the error's string code (`USER_NOT_FOUND`). A payload field with the JSON name \
       `code` would collide with it.",
        "error Rejected: failed_precondition { code @1: string; }",
        "error Rejected: failed_precondition { reason_code @1: string; }",
    ),
    c(
        "E0421",
        "media type that generated code cannot handle",
        "Generated servers and clients read and write JSON. `@content_type` may name another JSON \
       media type (`application/problem+json`, `application/vnd.acme+json`), which is then \
       accepted in requests and sent as the response's `Content-Type`; any other media type \
       (`image/png`, `text/csv`) needs a hand-written handler (`@handler`) that reads or writes \
       the body itself.",
        "@http(method = GET, path = \"/report\")\n@content_type(response = \"text/csv\")\nrpc report() -> string;",
        "@http(method = GET, path = \"/report\")\n@content_type(response = \"text/csv\")\n@handler(\"crate::report::csv\")\nrpc report() -> string;",
    ),
    c(
        "E0422",
        "names protobuf cannot tell apart",
        "Under `@grpc` every record, union, error, event and method's parameters and results become \
       a protobuf message, and proto3 refuses two fields whose JSON names are equal once case and \
       underscores are ignored (`self` and `Self`, `user_id` and `userId`).",
        "@grpc\npackage shop.v1;\n\ntype Item { id @1: string; Id @2: string; }",
        "@grpc\npackage shop.v1;\n\ntype Item { id @1: string; legacy_id @2: string; }",
    ),
    c(
        "E0423",
        "a list or map as a union variant under `@grpc`",
        "A union becomes a protobuf message with one `oneof`, and a `oneof` member cannot be \
       `repeated` or a `map`. Wrap the list or map in a record and make the record the variant.",
        "@grpc\npackage shop.v1;\n\nunion Tags { one @1: string; many @2: list<string>; }",
        "@grpc\npackage shop.v1;\n\ntype TagList { items @1: list<string>; }\nunion Tags { one @1: string; many @2: TagList; }",
    ),
    c(
        "E0425",
        "an enum value named like another declaration under `@grpc`",
        "The `.proto` files keep each enum value's name as the contract writes it (so protobuf's \
       JSON prints what svcc's JSON prints), and protobuf scopes enum values to the package, as \
       C++ does: a value may not share its name with another enum's value, or with a record, \
       union, enum, error, event or service of the package.",
        "@grpc\npackage shop.v1;\n\nenum Size { Small @1; Large @2; }\nenum Box { Small @1; Crate @2; }",
        "@grpc\npackage shop.v1;\n\nenum Size { Small @1; Large @2; }\nenum Box { SmallBox @1; Crate @2; }",
    ),
    c(
        "E0426",
        "an event keyed by a field that cannot be a key",
        "`@key(field)` makes the field's value the Kafka message key (its text: a string as it \
       is, a number in digits, an enum value by name), so messages with one key go to one \
       partition in order. Lists, maps, records, unions, `any`, `bytes` and floats have no \
       stable text to key by.",
        "@topic(\"order.placed\") @key(items)\nevent OrderPlaced { items @1: list<string>; }",
        "@topic(\"order.placed\") @key(order_id)\nevent OrderPlaced { order_id @1: uuid; items @2: \
       list<string>; }",
    ),
    c(
        "E0999",
        "internal compiler error",
        "The compiler hit a bug. The input is not necessarily wrong. Please report the error \
       together with the file named in the message.",
        "",
        "",
    ),
];

pub fn lookup(code: &str) -> Option<&'static Code> {
    let upper = code.to_ascii_uppercase();
    CODES.iter().find(|c| c.code == upper)
}

/// The full text printed by `svcc explain`.
pub fn explain(code: &Code) -> String {
    let mut s = format!(
        "{}: {}\n\n{}\n",
        code.code,
        code.title,
        wrap(code.explanation, 90)
    );
    if !code.wrong.is_empty() {
        s.push_str("\nErroneous example:\n\n");
        for l in code.wrong.lines() {
            s.push_str("    ");
            s.push_str(l);
            s.push('\n');
        }
        s.push_str("\nFixed:\n\n");
        for l in code.fixed.lines() {
            s.push_str("    ");
            s.push_str(l);
            s.push('\n');
        }
    }
    s
}

pub(crate) fn wrap(text: &str, width: usize) -> String {
    let mut out = String::new();
    let mut line = 0;
    for w in text.split_whitespace() {
        if line > 0 && line + 1 + w.len() > width {
            out.push('\n');
            line = 0;
        } else if line > 0 {
            out.push(' ');
            line += 1;
        }
        out.push_str(w);
        line += w.len();
    }
    out
}
