"""``focusq completion bash|zsh|fish``: the shell's completion script; ``completion ids``.

The scripts are made from the command tree itself (every command, its options, which of
them take a task id or a fixed choice), so they never drift from it. The open tasks' ids
come at Tab time from ``focusq completion ids``, a quick path with no argparse and no
pydantic: one query through the blocking store, printed as ``ID<tab>TITLE`` lines.
"""

from __future__ import annotations

import os
import sys

from focusq.paths import Paths

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs the quick path milliseconds; annotations are strings
    import argparse
    from typing import Any

SHELLS = ("bash", "zsh", "fish")

INSTALL = {
    "bash": "echo 'source <(focusq completion bash)' >> ~/.bashrc",
    "zsh": "echo 'source <(focusq completion zsh)' >> ~/.zshrc  # after compinit",
    "fish": "focusq completion fish > ~/.config/fish/completions/focusq.fish",
}
"""The one line that installs each shell's completion."""


def completion_args(p: argparse.ArgumentParser) -> None:
    p.epilog = "install it:\n" + "\n".join(f"  {shell:<5} {INSTALL[shell]}" for shell in SHELLS)
    # 'completion ids', what the scripts run at Tab time, never reaches argparse.
    p.add_argument("shell", choices=SHELLS, help="the shell to print the script for")
    p.set_defaults(handler=cmd_completion)


def cmd_completion(args: argparse.Namespace) -> int:
    """``focusq completion SHELL``: print the script."""
    script = {"bash": bash_script, "zsh": zsh_script, "fish": fish_script}[args.shell]
    sys.stdout.write(script(command_specs()))
    return 0


def quick_args(argv: list[str]) -> Any:
    """``completion ids`` read without argparse (see ``cli.main._quick``), else ``None``."""
    if argv != ["completion", "ids"]:
        return None
    from types import SimpleNamespace

    return SimpleNamespace(handler=cmd_ids, takes_command=False)


def cmd_ids(args: object) -> int:
    """``focusq completion ids``: the open tasks as ``ID<tab>TITLE`` lines, for a Tab press.

    Nothing is created and nothing is said: no database yet means no ids, and a database
    that cannot be read gives none either (exit 1), so a Tab never prints an error into
    the line being typed. Titles are shown safely (escapes as pictures).
    """
    paths = Paths.from_env()
    if not os.path.isfile(paths.database):
        return 0
    from focusq.cli.output import visible
    from focusq.errors import FocusqError
    from focusq.store.ops.completion import open_titles
    from focusq.store.sync import SyncStore

    try:
        with SyncStore(paths.database, busy_timeout=0.5) as store:
            text = store.run(open_titles())
    except FocusqError:
        return 1
    if text:
        sys.stdout.write(visible(text, lines=True).replace("\r", "\u240d") + "\n")
    return 0


# -- what the scripts know --------------------------------------------------------------------


class OptionSpec:
    """One option of a command, as completion sees it."""

    __slots__ = ("choices", "dirs", "help", "ids", "names", "takes_value")

    def __init__(
        self, names: list[str], help_text: str, takes_value: bool, choices: list[str], ids: bool
    ) -> None:
        self.names = names
        self.help = help_text
        self.takes_value = takes_value
        self.choices = choices
        """Fixed values it takes (``--kind creative``), else empty."""
        self.ids = ids
        """It takes a task id (``block --on``)."""
        self.dirs = False
        """It takes a folder (``--cwd``)."""


class CommandSpec:
    """One command: its help line, options, and what its first words are."""

    __slots__ = ("choices", "files", "help", "ids", "name", "options")

    def __init__(self, name: str, help_text: str) -> None:
        self.name = name
        self.help = help_text
        self.options: list[OptionSpec] = []
        self.ids = ""
        """``one``: its first word is a task id; ``many``: every word is; else ``""``."""
        self.choices: list[str] = []
        """Fixed values of its first word (``completion bash``)."""
        self.files = False
        """Its word is a file (``batch FILE``)."""

    @property
    def valued(self) -> list[str]:
        """Option names that take the next word as their value."""
        return [n for o in self.options if o.takes_value for n in o.names]


def command_specs() -> list[CommandSpec]:
    """Every command of ``focusq``, read from the parser each one builds."""
    import argparse

    from focusq.cli.common import task_id_arg
    from focusq.cli.main import commands

    specs = []
    for name, (help_text, configure) in commands().items():
        parser = argparse.ArgumentParser(prog=f"focusq {name}")
        configure(parser)
        spec = CommandSpec(name, help_text)
        positionals = []
        for action in parser._actions:
            if action.help == argparse.SUPPRESS:
                continue
            if not action.option_strings:
                positionals.append(action)
                continue
            choices = [str(c) for c in action.choices or ()]
            option = OptionSpec(
                list(action.option_strings),
                (action.help or "").replace("%%", "%"),
                action.nargs != 0,
                choices,
                action.type is task_id_arg,
            )
            option.dirs = action.dest == "cwd"
            spec.options.append(option)
        if positionals:
            first = positionals[0]
            if first.type is task_id_arg:
                spec.ids = "many" if first.nargs in ("*", "+") else "one"
            elif first.choices:
                spec.choices = [str(c) for c in first.choices]
            elif first.dest == "file":
                spec.files = True
        specs.append(spec)
    return specs


def _spec_fields(spec: CommandSpec) -> list[str]:
    """What a command's case says besides its options, the same in bash and zsh: the options
    that take a value, and whether its words are task ids, choices or files."""
    return [
        f"valued={_quote(' '.join(spec.valued))}",
        f"ids={spec.ids}" if spec.ids else "",
        f"choices={_quote(' '.join(spec.choices))}" if spec.choices else "",
        "files=1" if spec.files else "",
    ]


def _quote(text: str) -> str:
    """``text`` in single quotes for bash and zsh."""
    return "'" + text.replace("'", "'\\''") + "'"


def _fish_quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _one_line(text: str) -> str:
    return " ".join(text.split())


# -- bash -------------------------------------------------------------------------------------

_BASH = r"""# focusq completion for bash; install it with:
#   %(install)s
_focusq_ids() {
    local prog=${COMP_WORDS[0]} id title line
    local -a found=()
    [[ $prog == "~/"* ]] && prog=$HOME/${prog#"~/"}
    while IFS=$'\t' read -r id title; do
        [[ $id == "$cur"* ]] && found+=("$id"$'\t'"$title")
    done < <("$prog" completion ids 2>/dev/null)
    if ((${#found[@]} == 1)); then
        COMPREPLY=("${found[0]%%%%$'\t'*}")  # one match: the id alone goes in the line
    else  # several: each shows its title; what they share is only the id's digits
        for line in "${found[@]}"; do
            COMPREPLY+=("${line%%%%$'\t'*}  (${line#*$'\t'})")
        done
    fi
}

_focusq_spec() {
    # The options of command $1, those that take a value, its first word (ids, choices).
    opts="" valued="" ids="" choices="" files=""
    case $1 in
%(cases)s
    *) return 1 ;;
    esac
}

_focusq_option_values() {
    case "$1 $2" in
%(option_cases)s
    *) return 1 ;;
    esac
}

_focusq() {
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
    local cmd="" word i positional=0 skip=0 opts valued ids choices files values
    COMPREPLY=()
    for ((i = 1; i < COMP_CWORD; i++)); do
        word=${COMP_WORDS[i]}
        if [[ $word == -- ]]; then  # the job's own command line
            if declare -F _command_offset >/dev/null; then
                _command_offset $((i + 1))
            else
                compopt -o default 2>/dev/null
            fi
            return 0
        fi
        if [[ -z $cmd ]]; then
            [[ $word != -* ]] && cmd=$word
            continue
        fi
        if ((skip)); then
            skip=0
            continue
        fi
        _focusq_spec "$cmd"
        if [[ " $valued " == *" $word "* ]]; then
            skip=1
        elif [[ $word != -* ]]; then
            ((positional++))
        fi
    done
    if [[ -z $cmd ]]; then
        if [[ $cur == -* ]]; then
            COMPREPLY=($(compgen -W "--help --version" -- "$cur"))
        else
            COMPREPLY=($(compgen -W %(commands)s -- "$cur"))
        fi
        return 0
    fi
    _focusq_spec "$cmd" || return 0
    if ((skip)); then  # the value of an option
        values=$(_focusq_option_values "$cmd" "$prev")
        case $values in
        "") ;;  # a value only the user knows: nothing to offer
        @ids) _focusq_ids ;;
        @dirs) COMPREPLY=($(compgen -d -- "$cur")) ;;
        *) COMPREPLY=($(compgen -W "$values" -- "$cur")) ;;
        esac
        return 0
    fi
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$opts" -- "$cur"))
    elif [[ $ids == many || ($ids == one && positional -eq 0) ]]; then
        _focusq_ids
    elif [[ -n $choices && positional -eq 0 ]]; then
        COMPREPLY=($(compgen -W "$choices" -- "$cur"))
    elif [[ -n $files ]]; then
        compopt -o default 2>/dev/null
    fi
    return 0
}

complete -F _focusq focusq
"""


def bash_script(specs: list[CommandSpec]) -> str:
    """The bash script (bash 3.2 and later: no associative arrays)."""
    cases, option_cases = [], []
    for spec in specs:
        opts = " ".join(n for o in spec.options for n in o.names)
        fields = [f"opts={_quote(opts)}", *_spec_fields(spec)]
        cases.append(f"    {spec.name}) {' '.join(f for f in fields if f)} ;;")
        for option in spec.options:
            if option.ids or option.choices or option.dirs:
                values = "@ids" if option.ids else "@dirs" if option.dirs else ""
                values = values or " ".join(option.choices)
                for name in option.names:
                    option_cases.append(f'    "{spec.name} {name}") echo {_quote(values)} ;;')
    return _BASH % {
        "install": INSTALL["bash"],
        "cases": "\n".join(cases),
        "option_cases": "\n".join(option_cases) or '    "") ;;',
        "commands": _quote(" ".join(s.name for s in specs)),
    }


# -- zsh --------------------------------------------------------------------------------------

_ZSH = r"""#compdef focusq
# focusq completion for zsh; install it with:
#   %(install)s

_focusq_ids() {
    local -a ids
    local line
    for line in ${(f)"$(${words[1]} completion ids 2>/dev/null)"}; do
        ids+=("${line%%%%$'\t'*}:${line#*$'\t'}")
    done
    _describe -t tasks 'task' ids
}

_focusq() {
    local -a commands opts
    local cmd valued ids choices files values word i positional=0 skip=0
    commands=(
%(commands)s
    )
    i=${words[(i)--]}
    if (( i < CURRENT )); then  # the job's own command line
        shift $i words
        (( CURRENT -= i ))
        _normal
        return
    fi
    if (( CURRENT == 2 )); then
        if [[ $PREFIX == -* ]]; then
            compadd -- --help --version
        else
            _describe -t commands 'focusq command' commands
        fi
        return
    fi
    cmd=${words[2]}
    case $cmd in
%(cases)s
    *) return 1 ;;
    esac
    for ((i = 3; i < CURRENT; i++)); do
        word=${words[i]}
        if (( skip )); then
            skip=0
        elif [[ " $valued " == *" $word "* ]]; then
            skip=1
        elif [[ $word != -* ]]; then
            (( positional++ ))
        fi
    done
    if (( skip )); then  # the value of an option
        case "$cmd ${words[CURRENT-1]}" in
%(option_cases)s
        *) ;;  # a value only the user knows: nothing to offer
        esac
        return
    fi
    if [[ $PREFIX == -* ]]; then
        _describe -t options 'option' opts
    elif [[ $ids == many || ( $ids == one && $positional -eq 0 ) ]]; then
        _focusq_ids
    elif [[ -n $choices && $positional -eq 0 ]]; then
        compadd -- ${=choices}
    elif [[ -n $files ]]; then
        _files
    fi
}

if [[ $funcstack[1] == _focusq ]]; then  # autoloaded from $fpath
    _focusq "$@"
else
    compdef _focusq focusq
fi
"""


def _zsh_item(name: str, help_text: str) -> str:
    return _quote(f"{name.replace(':', chr(92) + ':')}:{_one_line(help_text)}")


def zsh_script(specs: list[CommandSpec]) -> str:
    """The zsh script: source it after ``compinit``, or put it on ``$fpath`` as ``_focusq``."""
    commands = [f"        {_zsh_item(s.name, s.help)}" for s in specs]
    cases, option_cases = [], []
    for spec in specs:
        items = " ".join(_zsh_item(n, o.help) for o in spec.options for n in o.names)
        fields = [f"opts=({items})", *_spec_fields(spec)]
        cases.append(f"    {spec.name}) {' '.join(f for f in fields if f)} ;;")
        for option in spec.options:
            if option.ids or option.choices or option.dirs:
                action = (
                    "_focusq_ids"
                    if option.ids
                    else "_directories"
                    if option.dirs
                    else "compadd -- " + " ".join(_quote(c) for c in option.choices)
                )
                for name in option.names:
                    option_cases.append(f'        "{spec.name} {name}") {action} ;;')
    return _ZSH % {
        "install": INSTALL["zsh"],
        "commands": "\n".join(commands),
        "cases": "\n".join(cases),
        "option_cases": "\n".join(option_cases),
    }


# -- fish -------------------------------------------------------------------------------------

_FISH = r"""# focusq completion for fish; install it with:
#   %(install)s

function __focusq_ids
    set -l words (commandline -opc)
    $words[1] completion ids 2>/dev/null
end

# The command typed so far (the first word that is not an option), or nothing.
function __focusq_command
    set -l words (commandline -opc)
    set -e words[1]
    for word in $words
        if test "$word" = --
            return 1
        end
        if not string match -q -- '-*' $word
            echo $word
            return 0
        end
    end
    return 1
end

function __focusq_needs_command
    not __focusq_command >/dev/null
    and not contains -- -- (commandline -opc)
end

function __focusq_using -a cmd
    set -l found (__focusq_command); or return 1
    test "$found" = "$cmd"
end

# Whether the word being typed is the command's first plain word (or any, with 'many'),
# skipping the values of the options named after the mode.
function __focusq_wants_word -a cmd mode
    __focusq_using $cmd; or return 1
    set -l words (commandline -opc)
    set -e words[1]
    set -l valued $argv[3..-1]
    set -l seen 0
    set -l skip 0
    set -l past 0
    for word in $words
        if test $past -eq 0
            string match -q -- '-*' $word; or set past 1
            continue
        end
        if test $skip -eq 1
            set skip 0
        else if contains -- $word $valued
            set skip 1
        else if not string match -q -- '-*' $word
            set seen (math $seen + 1)
        end
    end
    test $skip -eq 0; or return 1
    test $mode = many; or test $seen -eq 0
end

complete -c focusq -f
complete -c focusq -n __focusq_needs_command -l help -d 'show the help'
complete -c focusq -n __focusq_needs_command -l version -d 'show the version'
%(lines)s
"""


def fish_script(specs: list[CommandSpec]) -> str:
    """The fish script: save it as ``~/.config/fish/completions/focusq.fish``."""
    lines = []
    for spec in specs:
        lines.append(
            f"complete -c focusq -n __focusq_needs_command -a {spec.name} "
            f"-d {_fish_quote(_one_line(spec.help))}"
        )
        using = f"-n {_fish_quote(f'__focusq_using {spec.name}')}"
        for option in spec.options:
            flags = []
            for name in option.names:
                flags.append(f"-l {name[2:]}" if name.startswith("--") else f"-s {name[1:]}")
            if option.ids:
                flags.append("-x -a '(__focusq_ids)'")
            elif option.choices:
                flags.append(f"-x -a {_fish_quote(' '.join(option.choices))}")
            elif option.dirs:
                flags.append("-x -a '(__fish_complete_directories)'")
            elif option.takes_value:
                flags.append("-x")
            help_text = _fish_quote(_one_line(option.help))
            lines.append(f"complete -c focusq {using} {' '.join(flags)} -d {help_text}")
        valued = " ".join(spec.valued)
        if spec.ids:
            wants = _fish_quote(f"__focusq_wants_word {spec.name} {spec.ids} {valued}".strip())
            lines.append(f"complete -c focusq -n {wants} -a '(__focusq_ids)'")
        elif spec.choices:
            wants = _fish_quote(f"__focusq_wants_word {spec.name} one {valued}".strip())
            choices = _fish_quote(" ".join(spec.choices))
            lines.append(f"complete -c focusq -n {wants} -a {choices}")
        elif spec.files:
            lines.append(f"complete -c focusq {using} -F")
    lines.append("complete -c focusq -n 'contains -- -- (commandline -opc)' -F")
    return _FISH % {"install": INSTALL["fish"], "lines": "\n".join(lines)}
