; Definitions: @def.<kind> is the whole node, @name its name.
(class_definition name: (identifier) @name) @def.class
(function_definition name: (identifier) @name) @def.function

; References: names used by calls, attribute access, base classes and imports.
(call function: (identifier) @ref)
(call function: (attribute attribute: (identifier) @ref))
; (attribute access alone is too common to be worth a capture per use)
(class_definition superclasses: (argument_list (identifier) @ref))
(import_from_statement name: (dotted_name (identifier) @ref))
(type (identifier) @ref)
(decorator (identifier) @ref)
