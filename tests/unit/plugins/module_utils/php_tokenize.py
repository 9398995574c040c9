"""The whole-file PHP tokenizer the tests check the statement scanners
against: every token outside comments, strings and inline HTML. The plugins
only tokenize statements of interest (lexer.scan_statements_fast); this
drives the same token loop, _php_tokens, over all the PHP code of a file."""

from ansible_collections.lastgood.webstack.plugins.module_utils._php.lexer import (
    NAME,
    Token,
    _php_tokens,
    each_php_block,
)


def tokenize(text):
    """The PHP tokens of ``text`` (a whole file), outside comments, strings
    and inline HTML. Strings are one token each. Never raises on bad PHP:
    an unterminated construct runs to the end of the file, as PHP's own
    scanner would report it."""
    tokens = []

    def scan_block(opening, line):
        if opening.group(0) == "<?=":
            tokens.append(Token(NAME, "echo", line, opening.start(), opening.end()))
        position, line, dummy = _php_tokens(text, opening.end(), line, tokens)
        return position, line
    each_php_block(text, scan_block)
    return tokens
