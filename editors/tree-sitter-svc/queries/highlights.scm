; Highlights for svcc contracts (Neovim, Helix, Zed capture names).
(line_comment) @comment
(block_comment) @comment
(doc_comment) @comment.documentation
(inner_doc_comment) @comment.documentation

["package" "import" "as" "type" "enum" "union" "error" "event" "service" "rpc" "throws" "emits"] @keyword
["list" "map"] @type.builtin
["->" "="] @operator
(optional_marker) @operator
[";" "," ":" "."] @punctuation.delimiter
["{" "}" "(" ")" "[" "]" "<" ">"] @punctuation.bracket

(package_declaration name: (qualified_name) @module)
(import_declaration alias: (identifier) @module)
(string) @string
(number) @number
(boolean) @boolean
(tag) @number

(annotation "@" @attribute name: (identifier) @attribute)
(named_argument name: (identifier) @variable.parameter)

(record_declaration name: (identifier) @type.definition)
(alias_declaration name: (identifier) @type.definition)
(enum_declaration name: (identifier) @type.definition)
(union_declaration name: (identifier) @type.definition)
(error_declaration name: (identifier) @type.definition)
(error_declaration kind: (identifier) @constant.builtin)
(event_declaration name: (identifier) @type.definition)
(service_declaration name: (identifier) @type.definition)

(type_name (qualified_name) @type)
((type_name (qualified_name) @type.builtin)
  (#match? @type.builtin "^(bool|int32|int64|uint32|uint64|float32|float64|string|bytes|uuid|timestamp|date|duration|decimal|any)$"))

(field name: (identifier) @property)
(parameter name: (identifier) @variable.parameter)
(enum_value name: (identifier) @constant)
(method name: (identifier) @function.method)
(throws_clause (qualified_name) @type)
(emits_clause (qualified_name) @type)
