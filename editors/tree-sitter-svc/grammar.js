/**
 * tree-sitter grammar for svcc contracts (.svc), following the language reference.
 * Keywords are extracted from `identifier` (`word`), so they are keywords only where the
 * grammar accepts one: a field, parameter or enum value may be named `type` or `error`.
 */
const commaSep1 = (rule) => seq(rule, repeat(seq(',', rule)));
const annotations = ($) => repeat($.annotation);

module.exports = grammar({
  name: 'svc',
  word: ($) => $.identifier,
  extras: ($) => [/\s|\uFEFF/, $.line_comment, $.block_comment, $.doc_comment, $.inner_doc_comment],

  rules: {
    source_file: ($) =>
      seq(annotations($), $.package_declaration, repeat($.import_declaration), repeat($._declaration)),

    package_declaration: ($) => seq('package', field('name', $.qualified_name), ';'),
    import_declaration: ($) =>
      seq('import', field('path', $.string), optional(seq('as', field('alias', $.identifier))), ';'),

    _declaration: ($) =>
      choice(
        $.record_declaration,
        $.alias_declaration,
        $.enum_declaration,
        $.union_declaration,
        $.error_declaration,
        $.event_declaration,
        $.service_declaration,
      ),

    record_declaration: ($) => seq(annotations($), 'type', field('name', $.identifier), field('body', $.field_list)),
    alias_declaration: ($) => seq(annotations($), 'type', field('name', $.identifier), '=', field('type', $._type), ';'),
    enum_declaration: ($) => seq(annotations($), 'enum', field('name', $.identifier), field('body', $.enum_body)),
    union_declaration: ($) => seq(annotations($), 'union', field('name', $.identifier), field('body', $.field_list)),
    error_declaration: ($) =>
      seq(annotations($), 'error', field('name', $.identifier), ':', field('kind', $.identifier), choice(field('body', $.field_list), ';')),
    event_declaration: ($) => seq(annotations($), 'event', field('name', $.identifier), field('body', $.field_list)),
    service_declaration: ($) => seq(annotations($), 'service', field('name', $.identifier), field('body', $.service_body)),

    field_list: ($) => seq('{', repeat($.field), '}'),
    field: ($) =>
      seq(
        annotations($),
        field('name', $.identifier),
        optional($.optional_marker),
        optional($.tag),
        ':',
        field('type', $._type),
        optional(seq('=', field('default', $._value))),
        ';',
      ),

    enum_body: ($) => seq('{', repeat($.enum_value), '}'),
    enum_value: ($) => seq(annotations($), field('name', $.identifier), optional($.tag), ';'),

    service_body: ($) => seq('{', repeat($.method), '}'),
    method: ($) =>
      seq(
        annotations($),
        'rpc',
        field('name', $.identifier),
        field('parameters', $.parameter_list),
        optional(seq('->', field('result', choice($.parameter_list, $._type)))),
        optional(
          choice(
            seq($.throws_clause, optional($.emits_clause)),
            seq($.emits_clause, optional($.throws_clause)),
          ),
        ),
        ';',
      ),
    throws_clause: ($) => seq('throws', commaSep1($.qualified_name)),
    emits_clause: ($) => seq('emits', commaSep1($.qualified_name)),
    parameter_list: ($) => seq('(', optional(seq(commaSep1($.parameter), optional(','))), ')'),
    parameter: ($) =>
      seq(
        annotations($),
        field('name', $.identifier),
        optional($.optional_marker),
        optional($.tag),
        ':',
        field('type', $._type),
        optional(seq('=', field('default', $._value))),
      ),

    optional_marker: (_) => '?',
    tag: (_) => token(seq('@', /[0-9]+/)),

    _type: ($) => choice($.list_type, $.map_type, $.type_name),
    list_type: ($) => seq('list', '<', $._type, '>'),
    map_type: ($) => seq('map', '<', $._type, ',', $._type, '>'),
    type_name: ($) => $.qualified_name,

    annotation: ($) =>
      seq('@', field('name', alias(token.immediate(/[A-Za-z_][A-Za-z0-9_]*/), $.identifier)), optional($.annotation_arguments)),
    annotation_arguments: ($) => seq('(', optional(seq(commaSep1(choice($.named_argument, $._value)), optional(','))), ')'),
    named_argument: ($) => seq(field('name', $.identifier), '=', field('value', $._value)),

    _value: ($) => choice($.string, $.number, $.boolean, $.list_value, $.qualified_name),
    list_value: ($) => seq('[', optional(seq(commaSep1($._value), optional(','))), ']'),
    qualified_name: ($) => seq($.identifier, repeat(seq(token.immediate('.'), alias(token.immediate(/[A-Za-z_][A-Za-z0-9_]*/), $.identifier)))),

    identifier: (_) => /[A-Za-z_][A-Za-z0-9_]*/,
    string: (_) => token(seq('"', repeat(choice(/[^"\\\n]/, /\\[^\n]/)), '"')),
    number: (_) => /-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?/,
    boolean: (_) => choice('true', 'false'),

    line_comment: (_) => token(choice(seq('//', /[^/!\n][^\n]*/), seq('//', /\r?\n/), seq('////', /[^\n]*/), '//')),
    doc_comment: (_) => token(choice(seq('///', /[^/\n][^\n]*/), '///')),
    inner_doc_comment: (_) => token(seq('//!', /[^\n]*/)),
    block_comment: (_) => token(seq('/*', /[^*]*\*+([^/*][^*]*\*+)*/, '/')),
  },
});
