"""The LALR(1) tables of grammar/matcalc.lark, made by Lark. Do not edit: after changing
the grammar, run ``python -c 'import matcalc.reader.grammar as g; g.write_tables()'``
(tests/test_grammar_tables.py checks that these are the grammar's)."""

START, END = 0, 24

# RULES[r]: the symbol rule r makes, how many symbols it takes off the stack, the tree it
# builds (None: its parent takes its children) and whether one child stands for it
RULES = (
    ('start', 2, 'program', False),  # statement __start_star_0
    ('start', 1, 'program', False),  # statement
    ('statement', 1, 'expression', False),  # expr
    ('statement', 3, 'definition', False),  # DEFINED_NAME _DEFINE expr
    ('statement', 6, 'function', False),  # FUNCTION_NAME _LPAR PARAMETER _RPAR _DEFINE expr
    ('statement', 4, 'declaration', False),  # DECLARED_NAME __statement_star_1 _ELEMENT SPACE
    ('statement', 3, 'declaration', False),  # DECLARED_NAME _ELEMENT SPACE
    ('expr', 1, 'expr', True),  # sum
    ('expr', 3, 'compare', False),  # sum COMPARE sum
    ('sum', 1, 'sum', True),  # frob
    ('sum', 3, 'add', False),  # sum ADD_OP frob
    ('frob', 1, 'frob', True),  # hadamard
    ('frob', 3, 'frob', False),  # hadamard _COLON hadamard
    ('hadamard', 1, 'hadamard', True),  # product
    ('hadamard', 3, 'hadamard', False),  # hadamard HADAMARD_OP product
    ('hadamard', 3, 'kron', False),  # hadamard _KRON product
    ('product', 1, 'product', True),  # signed
    ('product', 3, 'matmul', False),  # product _MUL_OP signed
    ('product', 2, 'matmul', False),  # product operand
    ('product', 3, 'divide', False),  # product _DIV signed
    ('signed', 1, 'signed', True),  # operand
    ('signed', 2, 'negate', False),  # ADD_OP signed
    ('operand', 1, 'operand', True),  # postfix
    ('operand', 2, 'call', False),  # FUNC_BARE operand
    ('postfix', 1, 'postfix', True),  # primary
    ('postfix', 2, 'transpose', False),  # postfix TRANSPOSE
    ('postfix', 2, 'inverse_transpose', False),  # postfix INVERSE_TRANSPOSE
    ('postfix', 2, 'power', False),  # postfix POWER
    ('postfix', 2, 'hadpow', False),  # postfix HADPOW
    ('primary', 1, 'var', False),  # NAME
    ('primary', 1, 'num', False),  # NUMBER
    ('primary', 1, 'constant', False),  # CONSTANT
    ('primary', 3, 'group', False),  # _LPAR expr _RPAR
    ('primary', 4, 'call', False),  # FUNC_CALL _LPAR expr _RPAR
    ('primary', 6, 'call', False),  # FUNC_CALL _LPAR expr _COMMA expr _RPAR
    ('primary', 8, 'call', False),  # FUNC_CALL _LPAR expr _COMMA expr _COMMA expr _RPAR
    ('primary', 3, 'norm', False),  # NORM_OPEN expr NORM_CLOSE
    ('primary', 3, 'abs', False),  # _BAR_OPEN expr _BAR_CLOSE
    ('primary', 5, 'frob', False),  # _LANGLE expr _COMMA expr _RANGLE
    ('primary', 7, 'fraction', False),  # _FRAC _LPAR expr _RPAR _LPAR expr _RPAR
    ('primary', 4, 'indicator', False),  # INDICATOR _LPAR expr _RPAR
    ('__start_star_0', 2, None, False),  # _SEP statement
    ('__start_star_0', 3, None, False),  # __start_star_0 _SEP statement
    ('__statement_star_1', 2, None, False),  # _COMMA DECLARED_NAME
    ('__statement_star_1', 3, None, False),  # __statement_star_1 _COMMA DECLARED_NAME
)

# ACTIONS[state][symbol]: shift (or go) to state n >= 0, or reduce by rule ~n
ACTIONS = (
    {'ADD_OP': 1, 'CONSTANT': 2, 'DECLARED_NAME': 3, 'DEFINED_NAME': 4, 'FUNCTION_NAME': 5, 'FUNC_BARE': 6, 'FUNC_CALL': 7, 'INDICATOR': 8, 'NAME': 9, 'NORM_OPEN': 10, 'NUMBER': 11, '_BAR_OPEN': 12, '_FRAC': 13, '_LANGLE': 14, '_LPAR': 15, 'expr': 16, 'frob': 17, 'hadamard': 18, 'operand': 19, 'postfix': 20, 'primary': 21, 'product': 22, 'signed': 23, 'start': 24, 'statement': 25, 'sum': 26},
    {'ADD_OP': 1, 'CONSTANT': 2, 'FUNC_BARE': 6, 'FUNC_CALL': 7, 'INDICATOR': 8, 'NAME': 9, 'NORM_OPEN': 10, 'NUMBER': 11, '_BAR_OPEN': 12, '_FRAC': 13, '_LANGLE': 14, '_LPAR': 15, 'operand': 19, 'postfix': 20, 'primary': 21, 'signed': 27},
    {'$END': -32, 'ADD_OP': -32, 'COMPARE': -32, 'CONSTANT': -32, 'FUNC_BARE': -32, 'FUNC_CALL': -32, 'HADAMARD_OP': -32, 'HADPOW': -32, 'INDICATOR': -32, 'INVERSE_TRANSPOSE': -32, 'NAME': -32, 'NORM_CLOSE': -32, 'NORM_OPEN': -32, 'NUMBER': -32, 'POWER': -32, 'TRANSPOSE': -32, '_BAR_CLOSE': -32, '_BAR_OPEN': -32, '_COLON': -32, '_COMMA': -32, '_DIV': -32, '_FRAC': -32, '_KRON': -32, '_LANGLE': -32, '_LPAR': -32, '_MUL_OP': -32, '_RANGLE': -32, '_RPAR': -32, '_SEP': -32},
    {'_COMMA': 28, '_ELEMENT': 29, '__statement_star_1': 30},
    {'_DEFINE': 31},
    {'_LPAR': 32},
    {'CONSTANT': 2, 'FUNC_BARE': 6, 'FUNC_CALL': 7, 'INDICATOR': 8, 'NAME': 9, 'NORM_OPEN': 10, 'NUMBER': 11, '_BAR_OPEN': 12, '_FRAC': 13, '_LANGLE': 14, '_LPAR': 15, 'operand': 33, 'postfix': 20, 'primary': 21},
    {'_LPAR': 34},
    {'_LPAR': 35},
    {'$END': -30, 'ADD_OP': -30, 'COMPARE': -30, 'CONSTANT': -30, 'FUNC_BARE': -30, 'FUNC_CALL': -30, 'HADAMARD_OP': -30, 'HADPOW': -30, 'INDICATOR': -30, 'INVERSE_TRANSPOSE': -30, 'NAME': -30, 'NORM_CLOSE': -30, 'NORM_OPEN': -30, 'NUMBER': -30, 'POWER': -30, 'TRANSPOSE': -30, '_BAR_CLOSE': -30, '_BAR_OPEN': -30, '_COLON': -30, '_COMMA': -30, '_DIV': -30, '_FRAC': -30, '_KRON': -30, '_LANGLE': -30, '_LPAR': -30, '_MUL_OP': -30, '_RANGLE': -30, '_RPAR': -30, '_SEP': -30},
    {'ADD_OP': 1, 'CONSTANT': 2, 'FUNC_BARE': 6, 'FUNC_CALL': 7, 'INDICATOR': 8, 'NAME': 9, 'NORM_OPEN': 10, 'NUMBER': 11, '_BAR_OPEN': 12, '_FRAC': 13, '_LANGLE': 14, '_LPAR': 15, 'expr': 36, 'frob': 17, 'hadamard': 18, 'operand': 19, 'postfix': 20, 'primary': 21, 'product': 22, 'signed': 23, 'sum': 26},
    {'$END': -31, 'ADD_OP': -31, 'COMPARE': -31, 'CONSTANT': -31, 'FUNC_BARE': -31, 'FUNC_CALL': -31, 'HADAMARD_OP': -31, 'HADPOW': -31, 'INDICATOR': -31, 'INVERSE_TRANSPOSE': -31, 'NAME': -31, 'NORM_CLOSE': -31, 'NORM_OPEN': -31, 'NUMBER': -31, 'POWER': -31, 'TRANSPOSE': -31, '_BAR_CLOSE': -31, '_BAR_OPEN': -31, '_COLON': -31, '_COMMA': -31, '_DIV': -31, '_FRAC': -31, '_KRON': -31, '_LANGLE': -31, '_LPAR': -31, '_MUL_OP': -31, '_RANGLE': -31, '_RPAR': -31, '_SEP': -31},
    {'ADD_OP': 1, 'CONSTANT': 2, 'FUNC_BARE': 6, 'FUNC_CALL': 7, 'INDICATOR': 8, 'NAME': 9, 'NORM_OPEN': 10, 'NUMBER': 11, '_BAR_OPEN': 12, '_FRAC': 13, '_LANGLE': 14, '_LPAR': 15, 'expr': 37, 'frob': 17, 'hadamard': 18, 'operand': 19, 'postfix': 20, 'primary': 21, 'product': 22, 'signed': 23, 'sum': 26},
    {'_LPAR': 38},
    {'ADD_OP': 1, 'CONSTANT': 2, 'FUNC_BARE': 6, 'FUNC_CALL': 7, 'INDICATOR': 8, 'NAME': 9, 'NORM_OPEN': 10, 'NUMBER': 11, '_BAR_OPEN': 12, '_FRAC': 13, '_LANGLE': 14, '_LPAR': 15, 'expr': 39, 'frob': 17, 'hadamard': 18, 'operand': 19, 'postfix': 20, 'primary': 21, 'product': 22, 'signed': 23, 'sum': 26},
    {'ADD_OP': 1, 'CONSTANT': 2, 'FUNC_BARE': 6, 'FUNC_CALL': 7, 'INDICATOR': 8, 'NAME': 9, 'NORM_OPEN': 10, 'NUMBER': 11, '_BAR_OPEN': 12, '_FRAC': 13, '_LANGLE': 14, '_LPAR': 15, 'expr': 40, 'frob': 17, 'hadamard': 18, 'operand': 19, 'postfix': 20, 'primary': 21, 'product': 22, 'signed': 23, 'sum': 26},
    {'$END': -3, '_SEP': -3},
    {'$END': -10, 'ADD_OP': -10, 'COMPARE': -10, 'NORM_CLOSE': -10, '_BAR_CLOSE': -10, '_COMMA': -10, '_RANGLE': -10, '_RPAR': -10, '_SEP': -10},
    {'$END': -12, 'ADD_OP': -12, 'COMPARE': -12, 'HADAMARD_OP': 41, 'NORM_CLOSE': -12, '_BAR_CLOSE': -12, '_COLON': 42, '_COMMA': -12, '_KRON': 43, '_RANGLE': -12, '_RPAR': -12, '_SEP': -12},
    {'$END': -21, 'ADD_OP': -21, 'COMPARE': -21, 'CONSTANT': -21, 'FUNC_BARE': -21, 'FUNC_CALL': -21, 'HADAMARD_OP': -21, 'INDICATOR': -21, 'NAME': -21, 'NORM_CLOSE': -21, 'NORM_OPEN': -21, 'NUMBER': -21, '_BAR_CLOSE': -21, '_BAR_OPEN': -21, '_COLON': -21, '_COMMA': -21, '_DIV': -21, '_FRAC': -21, '_KRON': -21, '_LANGLE': -21, '_LPAR': -21, '_MUL_OP': -21, '_RANGLE': -21, '_RPAR': -21, '_SEP': -21},
    {'$END': -23, 'ADD_OP': -23, 'COMPARE': -23, 'CONSTANT': -23, 'FUNC_BARE': -23, 'FUNC_CALL': -23, 'HADAMARD_OP': -23, 'HADPOW': 44, 'INDICATOR': -23, 'INVERSE_TRANSPOSE': 45, 'NAME': -23, 'NORM_CLOSE': -23, 'NORM_OPEN': -23, 'NUMBER': -23, 'POWER': 46, 'TRANSPOSE': 47, '_BAR_CLOSE': -23, '_BAR_OPEN': -23, '_COLON': -23, '_COMMA': -23, '_DIV': -23, '_FRAC': -23, '_KRON': -23, '_LANGLE': -23, '_LPAR': -23, '_MUL_OP': -23, '_RANGLE': -23, '_RPAR': -23, '_SEP': -23},
    {'$END': -25, 'ADD_OP': -25, 'COMPARE': -25, 'CONSTANT': -25, 'FUNC_BARE': -25, 'FUNC_CALL': -25, 'HADAMARD_OP': -25, 'HADPOW': -25, 'INDICATOR': -25, 'INVERSE_TRANSPOSE': -25, 'NAME': -25, 'NORM_CLOSE': -25, 'NORM_OPEN': -25, 'NUMBER': -25, 'POWER': -25, 'TRANSPOSE': -25, '_BAR_CLOSE': -25, '_BAR_OPEN': -25, '_COLON': -25, '_COMMA': -25, '_DIV': -25, '_FRAC': -25, '_KRON': -25, '_LANGLE': -25, '_LPAR': -25, '_MUL_OP': -25, '_RANGLE': -25, '_RPAR': -25, '_SEP': -25},
    {'$END': -14, 'ADD_OP': -14, 'COMPARE': -14, 'CONSTANT': 2, 'FUNC_BARE': 6, 'FUNC_CALL': 7, 'HADAMARD_OP': -14, 'INDICATOR': 8, 'NAME': 9, 'NORM_CLOSE': -14, 'NORM_OPEN': 10, 'NUMBER': 11, '_BAR_CLOSE': -14, '_BAR_OPEN': 12, '_COLON': -14, '_COMMA': -14, '_DIV': 48, '_FRAC': 13, '_KRON': -14, '_LANGLE': 14, '_LPAR': 15, '_MUL_OP': 49, '_RANGLE': -14, '_RPAR': -14, '_SEP': -14, 'operand': 50, 'postfix': 20, 'primary': 21},
    {'$END': -17, 'ADD_OP': -17, 'COMPARE': -17, 'CONSTANT': -17, 'FUNC_BARE': -17, 'FUNC_CALL': -17, 'HADAMARD_OP': -17, 'INDICATOR': -17, 'NAME': -17, 'NORM_CLOSE': -17, 'NORM_OPEN': -17, 'NUMBER': -17, '_BAR_CLOSE': -17, '_BAR_OPEN': -17, '_COLON': -17, '_COMMA': -17, '_DIV': -17, '_FRAC': -17, '_KRON': -17, '_LANGLE': -17, '_LPAR': -17, '_MUL_OP': -17, '_RANGLE': -17, '_RPAR': -17, '_SEP': -17},
    {},
    {'$END': -2, '_SEP': 51, '__start_star_0': 52},
    {'$END': -8, 'ADD_OP': 53, 'COMPARE': 54, 'NORM_CLOSE': -8, '_BAR_CLOSE': -8, '_COMMA': -8, '_RANGLE': -8, '_RPAR': -8, '_SEP': -8},
    {'$END': -22, 'ADD_OP': -22, 'COMPARE': -22, 'CONSTANT': -22, 'FUNC_BARE': -22, 'FUNC_CALL': -22, 'HADAMARD_OP': -22, 'INDICATOR': -22, 'NAME': -22, 'NORM_CLOSE': -22, 'NORM_OPEN': -22, 'NUMBER': -22, '_BAR_CLOSE': -22, '_BAR_OPEN': -22, '_COLON': -22, '_COMMA': -22, '_DIV': -22, '_FRAC': -22, '_KRON': -22, '_LANGLE': -22, '_LPAR': -22, '_MUL_OP': -22, '_RANGLE': -22, '_RPAR': -22, '_SEP': -22},
    {'DECLARED_NAME': 55},
    {'SPACE': 56},
    {'_COMMA': 57, '_ELEMENT': 58},
    {'ADD_OP': 1, 'CONSTANT': 2, 'FUNC_BARE': 6, 'FUNC_CALL': 7, 'INDICATOR': 8, 'NAME': 9, 'NORM_OPEN': 10, 'NUMBER': 11, '_BAR_OPEN': 12, '_FRAC': 13, '_LANGLE': 14, '_LPAR': 15, 'expr': 59, 'frob': 17, 'hadamard': 18, 'operand': 19, 'postfix': 20, 'primary': 21, 'product': 22, 'signed': 23, 'sum': 26},
    {'PARAMETER': 60},
    {'$END': -24, 'ADD_OP': -24, 'COMPARE': -24, 'CONSTANT': -24, 'FUNC_BARE': -24, 'FUNC_CALL': -24, 'HADAMARD_OP': -24, 'INDICATOR': -24, 'NAME': -24, 'NORM_CLOSE': -24, 'NORM_OPEN': -24, 'NUMBER': -24, '_BAR_CLOSE': -24, '_BAR_OPEN': -24, '_COLON': -24, '_COMMA': -24, '_DIV': -24, '_FRAC': -24, '_KRON': -24, '_LANGLE': -24, '_LPAR': -24, '_MUL_OP': -24, '_RANGLE': -24, '_RPAR': -24, '_SEP': -24},
    {'ADD_OP': 1, 'CONSTANT': 2, 'FUNC_BARE': 6, 'FUNC_CALL': 7, 'INDICATOR': 8, 'NAME': 9, 'NORM_OPEN': 10, 'NUMBER': 11, '_BAR_OPEN': 12, '_FRAC': 13, '_LANGLE': 14, '_LPAR': 15, 'expr': 61, 'frob': 17, 'hadamard': 18, 'operand': 19, 'postfix': 20, 'primary': 21, 'product': 22, 'signed': 23, 'sum': 26},
    {'ADD_OP': 1, 'CONSTANT': 2, 'FUNC_BARE': 6, 'FUNC_CALL': 7, 'INDICATOR': 8, 'NAME': 9, 'NORM_OPEN': 10, 'NUMBER': 11, '_BAR_OPEN': 12, '_FRAC': 13, '_LANGLE': 14, '_LPAR': 15, 'expr': 62, 'frob': 17, 'hadamard': 18, 'operand': 19, 'postfix': 20, 'primary': 21, 'product': 22, 'signed': 23, 'sum': 26},
    {'NORM_CLOSE': 63},
    {'_BAR_CLOSE': 64},
    {'ADD_OP': 1, 'CONSTANT': 2, 'FUNC_BARE': 6, 'FUNC_CALL': 7, 'INDICATOR': 8, 'NAME': 9, 'NORM_OPEN': 10, 'NUMBER': 11, '_BAR_OPEN': 12, '_FRAC': 13, '_LANGLE': 14, '_LPAR': 15, 'expr': 65, 'frob': 17, 'hadamard': 18, 'operand': 19, 'postfix': 20, 'primary': 21, 'product': 22, 'signed': 23, 'sum': 26},
    {'_COMMA': 66},
    {'_RPAR': 67},
    {'ADD_OP': 1, 'CONSTANT': 2, 'FUNC_BARE': 6, 'FUNC_CALL': 7, 'INDICATOR': 8, 'NAME': 9, 'NORM_OPEN': 10, 'NUMBER': 11, '_BAR_OPEN': 12, '_FRAC': 13, '_LANGLE': 14, '_LPAR': 15, 'operand': 19, 'postfix': 20, 'primary': 21, 'product': 68, 'signed': 23},
    {'ADD_OP': 1, 'CONSTANT': 2, 'FUNC_BARE': 6, 'FUNC_CALL': 7, 'INDICATOR': 8, 'NAME': 9, 'NORM_OPEN': 10, 'NUMBER': 11, '_BAR_OPEN': 12, '_FRAC': 13, '_LANGLE': 14, '_LPAR': 15, 'hadamard': 69, 'operand': 19, 'postfix': 20, 'primary': 21, 'product': 22, 'signed': 23},
    {'ADD_OP': 1, 'CONSTANT': 2, 'FUNC_BARE': 6, 'FUNC_CALL': 7, 'INDICATOR': 8, 'NAME': 9, 'NORM_OPEN': 10, 'NUMBER': 11, '_BAR_OPEN': 12, '_FRAC': 13, '_LANGLE': 14, '_LPAR': 15, 'operand': 19, 'postfix': 20, 'primary': 21, 'product': 70, 'signed': 23},
    {'$END': -29, 'ADD_OP': -29, 'COMPARE': -29, 'CONSTANT': -29, 'FUNC_BARE': -29, 'FUNC_CALL': -29, 'HADAMARD_OP': -29, 'HADPOW': -29, 'INDICATOR': -29, 'INVERSE_TRANSPOSE': -29, 'NAME': -29, 'NORM_CLOSE': -29, 'NORM_OPEN': -29, 'NUMBER': -29, 'POWER': -29, 'TRANSPOSE': -29, '_BAR_CLOSE': -29, '_BAR_OPEN': -29, '_COLON': -29, '_COMMA': -29, '_DIV': -29, '_FRAC': -29, '_KRON': -29, '_LANGLE': -29, '_LPAR': -29, '_MUL_OP': -29, '_RANGLE': -29, '_RPAR': -29, '_SEP': -29},
    {'$END': -27, 'ADD_OP': -27, 'COMPARE': -27, 'CONSTANT': -27, 'FUNC_BARE': -27, 'FUNC_CALL': -27, 'HADAMARD_OP': -27, 'HADPOW': -27, 'INDICATOR': -27, 'INVERSE_TRANSPOSE': -27, 'NAME': -27, 'NORM_CLOSE': -27, 'NORM_OPEN': -27, 'NUMBER': -27, 'POWER': -27, 'TRANSPOSE': -27, '_BAR_CLOSE': -27, '_BAR_OPEN': -27, '_COLON': -27, '_COMMA': -27, '_DIV': -27, '_FRAC': -27, '_KRON': -27, '_LANGLE': -27, '_LPAR': -27, '_MUL_OP': -27, '_RANGLE': -27, '_RPAR': -27, '_SEP': -27},
    {'$END': -28, 'ADD_OP': -28, 'COMPARE': -28, 'CONSTANT': -28, 'FUNC_BARE': -28, 'FUNC_CALL': -28, 'HADAMARD_OP': -28, 'HADPOW': -28, 'INDICATOR': -28, 'INVERSE_TRANSPOSE': -28, 'NAME': -28, 'NORM_CLOSE': -28, 'NORM_OPEN': -28, 'NUMBER': -28, 'POWER': -28, 'TRANSPOSE': -28, '_BAR_CLOSE': -28, '_BAR_OPEN': -28, '_COLON': -28, '_COMMA': -28, '_DIV': -28, '_FRAC': -28, '_KRON': -28, '_LANGLE': -28, '_LPAR': -28, '_MUL_OP': -28, '_RANGLE': -28, '_RPAR': -28, '_SEP': -28},
    {'$END': -26, 'ADD_OP': -26, 'COMPARE': -26, 'CONSTANT': -26, 'FUNC_BARE': -26, 'FUNC_CALL': -26, 'HADAMARD_OP': -26, 'HADPOW': -26, 'INDICATOR': -26, 'INVERSE_TRANSPOSE': -26, 'NAME': -26, 'NORM_CLOSE': -26, 'NORM_OPEN': -26, 'NUMBER': -26, 'POWER': -26, 'TRANSPOSE': -26, '_BAR_CLOSE': -26, '_BAR_OPEN': -26, '_COLON': -26, '_COMMA': -26, '_DIV': -26, '_FRAC': -26, '_KRON': -26, '_LANGLE': -26, '_LPAR': -26, '_MUL_OP': -26, '_RANGLE': -26, '_RPAR': -26, '_SEP': -26},
    {'ADD_OP': 1, 'CONSTANT': 2, 'FUNC_BARE': 6, 'FUNC_CALL': 7, 'INDICATOR': 8, 'NAME': 9, 'NORM_OPEN': 10, 'NUMBER': 11, '_BAR_OPEN': 12, '_FRAC': 13, '_LANGLE': 14, '_LPAR': 15, 'operand': 19, 'postfix': 20, 'primary': 21, 'signed': 71},
    {'ADD_OP': 1, 'CONSTANT': 2, 'FUNC_BARE': 6, 'FUNC_CALL': 7, 'INDICATOR': 8, 'NAME': 9, 'NORM_OPEN': 10, 'NUMBER': 11, '_BAR_OPEN': 12, '_FRAC': 13, '_LANGLE': 14, '_LPAR': 15, 'operand': 19, 'postfix': 20, 'primary': 21, 'signed': 72},
    {'$END': -19, 'ADD_OP': -19, 'COMPARE': -19, 'CONSTANT': -19, 'FUNC_BARE': -19, 'FUNC_CALL': -19, 'HADAMARD_OP': -19, 'INDICATOR': -19, 'NAME': -19, 'NORM_CLOSE': -19, 'NORM_OPEN': -19, 'NUMBER': -19, '_BAR_CLOSE': -19, '_BAR_OPEN': -19, '_COLON': -19, '_COMMA': -19, '_DIV': -19, '_FRAC': -19, '_KRON': -19, '_LANGLE': -19, '_LPAR': -19, '_MUL_OP': -19, '_RANGLE': -19, '_RPAR': -19, '_SEP': -19},
    {'ADD_OP': 1, 'CONSTANT': 2, 'DECLARED_NAME': 3, 'DEFINED_NAME': 4, 'FUNCTION_NAME': 5, 'FUNC_BARE': 6, 'FUNC_CALL': 7, 'INDICATOR': 8, 'NAME': 9, 'NORM_OPEN': 10, 'NUMBER': 11, '_BAR_OPEN': 12, '_FRAC': 13, '_LANGLE': 14, '_LPAR': 15, 'expr': 16, 'frob': 17, 'hadamard': 18, 'operand': 19, 'postfix': 20, 'primary': 21, 'product': 22, 'signed': 23, 'statement': 73, 'sum': 26},
    {'$END': -1, '_SEP': 74},
    {'ADD_OP': 1, 'CONSTANT': 2, 'FUNC_BARE': 6, 'FUNC_CALL': 7, 'INDICATOR': 8, 'NAME': 9, 'NORM_OPEN': 10, 'NUMBER': 11, '_BAR_OPEN': 12, '_FRAC': 13, '_LANGLE': 14, '_LPAR': 15, 'frob': 75, 'hadamard': 18, 'operand': 19, 'postfix': 20, 'primary': 21, 'product': 22, 'signed': 23},
    {'ADD_OP': 1, 'CONSTANT': 2, 'FUNC_BARE': 6, 'FUNC_CALL': 7, 'INDICATOR': 8, 'NAME': 9, 'NORM_OPEN': 10, 'NUMBER': 11, '_BAR_OPEN': 12, '_FRAC': 13, '_LANGLE': 14, '_LPAR': 15, 'frob': 17, 'hadamard': 18, 'operand': 19, 'postfix': 20, 'primary': 21, 'product': 22, 'signed': 23, 'sum': 76},
    {'_COMMA': -44, '_ELEMENT': -44},
    {'$END': -7, '_SEP': -7},
    {'DECLARED_NAME': 77},
    {'SPACE': 78},
    {'$END': -4, '_SEP': -4},
    {'_RPAR': 79},
    {'_COMMA': 80, '_RPAR': 81},
    {'_RPAR': 82},
    {'$END': -37, 'ADD_OP': -37, 'COMPARE': -37, 'CONSTANT': -37, 'FUNC_BARE': -37, 'FUNC_CALL': -37, 'HADAMARD_OP': -37, 'HADPOW': -37, 'INDICATOR': -37, 'INVERSE_TRANSPOSE': -37, 'NAME': -37, 'NORM_CLOSE': -37, 'NORM_OPEN': -37, 'NUMBER': -37, 'POWER': -37, 'TRANSPOSE': -37, '_BAR_CLOSE': -37, '_BAR_OPEN': -37, '_COLON': -37, '_COMMA': -37, '_DIV': -37, '_FRAC': -37, '_KRON': -37, '_LANGLE': -37, '_LPAR': -37, '_MUL_OP': -37, '_RANGLE': -37, '_RPAR': -37, '_SEP': -37},
    {'$END': -38, 'ADD_OP': -38, 'COMPARE': -38, 'CONSTANT': -38, 'FUNC_BARE': -38, 'FUNC_CALL': -38, 'HADAMARD_OP': -38, 'HADPOW': -38, 'INDICATOR': -38, 'INVERSE_TRANSPOSE': -38, 'NAME': -38, 'NORM_CLOSE': -38, 'NORM_OPEN': -38, 'NUMBER': -38, 'POWER': -38, 'TRANSPOSE': -38, '_BAR_CLOSE': -38, '_BAR_OPEN': -38, '_COLON': -38, '_COMMA': -38, '_DIV': -38, '_FRAC': -38, '_KRON': -38, '_LANGLE': -38, '_LPAR': -38, '_MUL_OP': -38, '_RANGLE': -38, '_RPAR': -38, '_SEP': -38},
    {'_RPAR': 83},
    {'ADD_OP': 1, 'CONSTANT': 2, 'FUNC_BARE': 6, 'FUNC_CALL': 7, 'INDICATOR': 8, 'NAME': 9, 'NORM_OPEN': 10, 'NUMBER': 11, '_BAR_OPEN': 12, '_FRAC': 13, '_LANGLE': 14, '_LPAR': 15, 'expr': 84, 'frob': 17, 'hadamard': 18, 'operand': 19, 'postfix': 20, 'primary': 21, 'product': 22, 'signed': 23, 'sum': 26},
    {'$END': -33, 'ADD_OP': -33, 'COMPARE': -33, 'CONSTANT': -33, 'FUNC_BARE': -33, 'FUNC_CALL': -33, 'HADAMARD_OP': -33, 'HADPOW': -33, 'INDICATOR': -33, 'INVERSE_TRANSPOSE': -33, 'NAME': -33, 'NORM_CLOSE': -33, 'NORM_OPEN': -33, 'NUMBER': -33, 'POWER': -33, 'TRANSPOSE': -33, '_BAR_CLOSE': -33, '_BAR_OPEN': -33, '_COLON': -33, '_COMMA': -33, '_DIV': -33, '_FRAC': -33, '_KRON': -33, '_LANGLE': -33, '_LPAR': -33, '_MUL_OP': -33, '_RANGLE': -33, '_RPAR': -33, '_SEP': -33},
    {'$END': -15, 'ADD_OP': -15, 'COMPARE': -15, 'CONSTANT': 2, 'FUNC_BARE': 6, 'FUNC_CALL': 7, 'HADAMARD_OP': -15, 'INDICATOR': 8, 'NAME': 9, 'NORM_CLOSE': -15, 'NORM_OPEN': 10, 'NUMBER': 11, '_BAR_CLOSE': -15, '_BAR_OPEN': 12, '_COLON': -15, '_COMMA': -15, '_DIV': 48, '_FRAC': 13, '_KRON': -15, '_LANGLE': 14, '_LPAR': 15, '_MUL_OP': 49, '_RANGLE': -15, '_RPAR': -15, '_SEP': -15, 'operand': 50, 'postfix': 20, 'primary': 21},
    {'$END': -13, 'ADD_OP': -13, 'COMPARE': -13, 'HADAMARD_OP': 41, 'NORM_CLOSE': -13, '_BAR_CLOSE': -13, '_COMMA': -13, '_KRON': 43, '_RANGLE': -13, '_RPAR': -13, '_SEP': -13},
    {'$END': -16, 'ADD_OP': -16, 'COMPARE': -16, 'CONSTANT': 2, 'FUNC_BARE': 6, 'FUNC_CALL': 7, 'HADAMARD_OP': -16, 'INDICATOR': 8, 'NAME': 9, 'NORM_CLOSE': -16, 'NORM_OPEN': 10, 'NUMBER': 11, '_BAR_CLOSE': -16, '_BAR_OPEN': 12, '_COLON': -16, '_COMMA': -16, '_DIV': 48, '_FRAC': 13, '_KRON': -16, '_LANGLE': 14, '_LPAR': 15, '_MUL_OP': 49, '_RANGLE': -16, '_RPAR': -16, '_SEP': -16, 'operand': 50, 'postfix': 20, 'primary': 21},
    {'$END': -20, 'ADD_OP': -20, 'COMPARE': -20, 'CONSTANT': -20, 'FUNC_BARE': -20, 'FUNC_CALL': -20, 'HADAMARD_OP': -20, 'INDICATOR': -20, 'NAME': -20, 'NORM_CLOSE': -20, 'NORM_OPEN': -20, 'NUMBER': -20, '_BAR_CLOSE': -20, '_BAR_OPEN': -20, '_COLON': -20, '_COMMA': -20, '_DIV': -20, '_FRAC': -20, '_KRON': -20, '_LANGLE': -20, '_LPAR': -20, '_MUL_OP': -20, '_RANGLE': -20, '_RPAR': -20, '_SEP': -20},
    {'$END': -18, 'ADD_OP': -18, 'COMPARE': -18, 'CONSTANT': -18, 'FUNC_BARE': -18, 'FUNC_CALL': -18, 'HADAMARD_OP': -18, 'INDICATOR': -18, 'NAME': -18, 'NORM_CLOSE': -18, 'NORM_OPEN': -18, 'NUMBER': -18, '_BAR_CLOSE': -18, '_BAR_OPEN': -18, '_COLON': -18, '_COMMA': -18, '_DIV': -18, '_FRAC': -18, '_KRON': -18, '_LANGLE': -18, '_LPAR': -18, '_MUL_OP': -18, '_RANGLE': -18, '_RPAR': -18, '_SEP': -18},
    {'$END': -42, '_SEP': -42},
    {'ADD_OP': 1, 'CONSTANT': 2, 'DECLARED_NAME': 3, 'DEFINED_NAME': 4, 'FUNCTION_NAME': 5, 'FUNC_BARE': 6, 'FUNC_CALL': 7, 'INDICATOR': 8, 'NAME': 9, 'NORM_OPEN': 10, 'NUMBER': 11, '_BAR_OPEN': 12, '_FRAC': 13, '_LANGLE': 14, '_LPAR': 15, 'expr': 16, 'frob': 17, 'hadamard': 18, 'operand': 19, 'postfix': 20, 'primary': 21, 'product': 22, 'signed': 23, 'statement': 85, 'sum': 26},
    {'$END': -11, 'ADD_OP': -11, 'COMPARE': -11, 'NORM_CLOSE': -11, '_BAR_CLOSE': -11, '_COMMA': -11, '_RANGLE': -11, '_RPAR': -11, '_SEP': -11},
    {'$END': -9, 'ADD_OP': 53, 'NORM_CLOSE': -9, '_BAR_CLOSE': -9, '_COMMA': -9, '_RANGLE': -9, '_RPAR': -9, '_SEP': -9},
    {'_COMMA': -45, '_ELEMENT': -45},
    {'$END': -6, '_SEP': -6},
    {'_DEFINE': 86},
    {'ADD_OP': 1, 'CONSTANT': 2, 'FUNC_BARE': 6, 'FUNC_CALL': 7, 'INDICATOR': 8, 'NAME': 9, 'NORM_OPEN': 10, 'NUMBER': 11, '_BAR_OPEN': 12, '_FRAC': 13, '_LANGLE': 14, '_LPAR': 15, 'expr': 87, 'frob': 17, 'hadamard': 18, 'operand': 19, 'postfix': 20, 'primary': 21, 'product': 22, 'signed': 23, 'sum': 26},
    {'$END': -34, 'ADD_OP': -34, 'COMPARE': -34, 'CONSTANT': -34, 'FUNC_BARE': -34, 'FUNC_CALL': -34, 'HADAMARD_OP': -34, 'HADPOW': -34, 'INDICATOR': -34, 'INVERSE_TRANSPOSE': -34, 'NAME': -34, 'NORM_CLOSE': -34, 'NORM_OPEN': -34, 'NUMBER': -34, 'POWER': -34, 'TRANSPOSE': -34, '_BAR_CLOSE': -34, '_BAR_OPEN': -34, '_COLON': -34, '_COMMA': -34, '_DIV': -34, '_FRAC': -34, '_KRON': -34, '_LANGLE': -34, '_LPAR': -34, '_MUL_OP': -34, '_RANGLE': -34, '_RPAR': -34, '_SEP': -34},
    {'$END': -41, 'ADD_OP': -41, 'COMPARE': -41, 'CONSTANT': -41, 'FUNC_BARE': -41, 'FUNC_CALL': -41, 'HADAMARD_OP': -41, 'HADPOW': -41, 'INDICATOR': -41, 'INVERSE_TRANSPOSE': -41, 'NAME': -41, 'NORM_CLOSE': -41, 'NORM_OPEN': -41, 'NUMBER': -41, 'POWER': -41, 'TRANSPOSE': -41, '_BAR_CLOSE': -41, '_BAR_OPEN': -41, '_COLON': -41, '_COMMA': -41, '_DIV': -41, '_FRAC': -41, '_KRON': -41, '_LANGLE': -41, '_LPAR': -41, '_MUL_OP': -41, '_RANGLE': -41, '_RPAR': -41, '_SEP': -41},
    {'_LPAR': 88},
    {'_RANGLE': 89},
    {'$END': -43, '_SEP': -43},
    {'ADD_OP': 1, 'CONSTANT': 2, 'FUNC_BARE': 6, 'FUNC_CALL': 7, 'INDICATOR': 8, 'NAME': 9, 'NORM_OPEN': 10, 'NUMBER': 11, '_BAR_OPEN': 12, '_FRAC': 13, '_LANGLE': 14, '_LPAR': 15, 'expr': 90, 'frob': 17, 'hadamard': 18, 'operand': 19, 'postfix': 20, 'primary': 21, 'product': 22, 'signed': 23, 'sum': 26},
    {'_COMMA': 91, '_RPAR': 92},
    {'ADD_OP': 1, 'CONSTANT': 2, 'FUNC_BARE': 6, 'FUNC_CALL': 7, 'INDICATOR': 8, 'NAME': 9, 'NORM_OPEN': 10, 'NUMBER': 11, '_BAR_OPEN': 12, '_FRAC': 13, '_LANGLE': 14, '_LPAR': 15, 'expr': 93, 'frob': 17, 'hadamard': 18, 'operand': 19, 'postfix': 20, 'primary': 21, 'product': 22, 'signed': 23, 'sum': 26},
    {'$END': -39, 'ADD_OP': -39, 'COMPARE': -39, 'CONSTANT': -39, 'FUNC_BARE': -39, 'FUNC_CALL': -39, 'HADAMARD_OP': -39, 'HADPOW': -39, 'INDICATOR': -39, 'INVERSE_TRANSPOSE': -39, 'NAME': -39, 'NORM_CLOSE': -39, 'NORM_OPEN': -39, 'NUMBER': -39, 'POWER': -39, 'TRANSPOSE': -39, '_BAR_CLOSE': -39, '_BAR_OPEN': -39, '_COLON': -39, '_COMMA': -39, '_DIV': -39, '_FRAC': -39, '_KRON': -39, '_LANGLE': -39, '_LPAR': -39, '_MUL_OP': -39, '_RANGLE': -39, '_RPAR': -39, '_SEP': -39},
    {'$END': -5, '_SEP': -5},
    {'ADD_OP': 1, 'CONSTANT': 2, 'FUNC_BARE': 6, 'FUNC_CALL': 7, 'INDICATOR': 8, 'NAME': 9, 'NORM_OPEN': 10, 'NUMBER': 11, '_BAR_OPEN': 12, '_FRAC': 13, '_LANGLE': 14, '_LPAR': 15, 'expr': 94, 'frob': 17, 'hadamard': 18, 'operand': 19, 'postfix': 20, 'primary': 21, 'product': 22, 'signed': 23, 'sum': 26},
    {'$END': -35, 'ADD_OP': -35, 'COMPARE': -35, 'CONSTANT': -35, 'FUNC_BARE': -35, 'FUNC_CALL': -35, 'HADAMARD_OP': -35, 'HADPOW': -35, 'INDICATOR': -35, 'INVERSE_TRANSPOSE': -35, 'NAME': -35, 'NORM_CLOSE': -35, 'NORM_OPEN': -35, 'NUMBER': -35, 'POWER': -35, 'TRANSPOSE': -35, '_BAR_CLOSE': -35, '_BAR_OPEN': -35, '_COLON': -35, '_COMMA': -35, '_DIV': -35, '_FRAC': -35, '_KRON': -35, '_LANGLE': -35, '_LPAR': -35, '_MUL_OP': -35, '_RANGLE': -35, '_RPAR': -35, '_SEP': -35},
    {'_RPAR': 95},
    {'_RPAR': 96},
    {'$END': -40, 'ADD_OP': -40, 'COMPARE': -40, 'CONSTANT': -40, 'FUNC_BARE': -40, 'FUNC_CALL': -40, 'HADAMARD_OP': -40, 'HADPOW': -40, 'INDICATOR': -40, 'INVERSE_TRANSPOSE': -40, 'NAME': -40, 'NORM_CLOSE': -40, 'NORM_OPEN': -40, 'NUMBER': -40, 'POWER': -40, 'TRANSPOSE': -40, '_BAR_CLOSE': -40, '_BAR_OPEN': -40, '_COLON': -40, '_COMMA': -40, '_DIV': -40, '_FRAC': -40, '_KRON': -40, '_LANGLE': -40, '_LPAR': -40, '_MUL_OP': -40, '_RANGLE': -40, '_RPAR': -40, '_SEP': -40},
    {'$END': -36, 'ADD_OP': -36, 'COMPARE': -36, 'CONSTANT': -36, 'FUNC_BARE': -36, 'FUNC_CALL': -36, 'HADAMARD_OP': -36, 'HADPOW': -36, 'INDICATOR': -36, 'INVERSE_TRANSPOSE': -36, 'NAME': -36, 'NORM_CLOSE': -36, 'NORM_OPEN': -36, 'NUMBER': -36, 'POWER': -36, 'TRANSPOSE': -36, '_BAR_CLOSE': -36, '_BAR_OPEN': -36, '_COLON': -36, '_COMMA': -36, '_DIV': -36, '_FRAC': -36, '_KRON': -36, '_LANGLE': -36, '_LPAR': -36, '_MUL_OP': -36, '_RANGLE': -36, '_RPAR': -36, '_SEP': -36},
)
