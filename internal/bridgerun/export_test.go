package bridgerun

// Unexported parts the external tests (package bridgerun_test) drive.
var (
	StartMonitoring = startMonitoring
	CloseTarget     = closeTarget
)
