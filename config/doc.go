// Package config holds the gateway's configuration: Config, the embedded
// defaults (Default, DefaultYAML), Load and Parse (strict YAML with ${VAR}
// expansion from the environment), Validate (every problem at once) and
// SignetKeys (the configured keys as signet keys). Durations are strings
// ("30s"), sizes are strings ("10MiB"). docs/config.md documents every field.
package config
