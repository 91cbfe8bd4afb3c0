namespace Loadshift.Cli;

/// <summary>Shell completion scripts. Each asks loadshift itself through System.CommandLine's [suggest:POSITION]
/// directive, so verbs, options, host names and pending decision ids (from the Rebalancer, when it answers) complete.</summary>
internal static class Completion
{
    public static string Script(string shell) => shell switch
    {
        "bash" => """
            # loadshift completion for bash: source it, or save it as /etc/bash_completion.d/loadshift
            _loadshift() {
                local IFS=$'\n'
                COMPREPLY=($(compgen -W "$(loadshift "[suggest:${COMP_POINT}]" "${COMP_LINE}" 2>/dev/null)" -- "${COMP_WORDS[COMP_CWORD]}"))
            }
            complete -F _loadshift loadshift

            """,
        "zsh" => """
            #compdef loadshift
            # loadshift completion for zsh: save it as _loadshift in a folder of $fpath
            _loadshift() {
                local -a candidates
                candidates=("${(@f)$(loadshift "[suggest:${CURSOR}]" "${BUFFER}" 2>/dev/null)}")
                compadd -- "${candidates[@]}"
            }
            compdef _loadshift loadshift

            """,
        _ => """
            # loadshift completion for fish: save it as ~/.config/fish/completions/loadshift.fish
            complete -c loadshift -f -a '(loadshift "[suggest:"(string length -- (commandline -cp))"]" (commandline -cp) 2>/dev/null)'

            """,
    };
}
