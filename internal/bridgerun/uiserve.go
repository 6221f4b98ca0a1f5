package bridgerun

import (
	"context"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/bridgeops/bridge/internal/config"
	"github.com/bridgeops/bridge/internal/netaddr"
)

// ServeReadOnlyUI is bridge ui: it serves the read-only dashboard
// (ReadOnlyUI, on the bridge run at bridge) on addr until ctx ends, after
// saying its URL on out.
func ServeReadOnlyUI(ctx context.Context, out io.Writer, c config.Config, addr, bridge string) error {
	h, closeAll, err := ReadOnlyUI(ctx, c, bridge)
	if err != nil {
		return err
	}
	defer closeAll()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (pick another address with --addr)", addr, err)
	}
	fmt.Fprintf(out, "dashboard (read-only): http://%s/ui/\n", netaddr.Dialable(ln.Addr().String()))
	if err := Serve(ctx, ln, h, 10*time.Second); err != nil && ctx.Err() == nil {
		return err
	}
	return nil
}
