; Indentation: members of bodies and parameter lists are indented one level.
[
  (field_list)
  (enum_body)
  (service_body)
  (parameter_list)
] @indent.begin

["}" ")"] @indent.end @indent.branch
