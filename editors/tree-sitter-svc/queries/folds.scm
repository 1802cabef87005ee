[
  (field_list)
  (enum_body)
  (service_body)
  (parameter_list)
  (annotation_arguments)
  (block_comment)
] @fold
