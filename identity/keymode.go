package identity

import "runtime"

// keyModeMatters says whether Unix file modes protect the key here. Windows has
// only a read-only bit behind os.Chmod and reports 0666 for every writable file;
// there the key is private because %APPDATA% (the default data folder) carries an
// ACL that gives the user alone access.
var keyModeMatters = runtime.GOOS != "windows"
