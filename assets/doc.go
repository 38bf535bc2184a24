// Package assets carries Parley's static resources: icon.png is the application icon
// used by FyneApp.toml and the desktop entry.
package assets

import _ "embed"

// Icon is the 256×256 PNG application icon.
//
//go:embed icon.png
var Icon []byte
