// pstest-server serves Google's Pub/Sub test server (cloud.google.com/go/pubsub/v2/pstest)
// on one address until it is told to stop, for qsplit's tests and benchmarks: the server
// Google publishes for its own client's tests, not an imitation written here.
//
//	pstest-server -address 127.0.0.1:PORT [-tls-address 127.0.0.1:PORT2 -ca CA.pem -keys DIR]
//
// With -tls-address it serves the same state over TLS as well, and there asks for a service
// account's token, as Google's endpoint does (front.go). It prints "listening on ADDRESS" (and
// "tls listening on ADDRESS") once it accepts connections, and stops on SIGTERM or SIGINT.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"cloud.google.com/go/pubsub/v2/pstest"
)

func main() {
	address := flag.String("address", "127.0.0.1:0", "host:port to listen on")
	tlsAddress := flag.String("tls-address", "", "host:port to serve over TLS, with service-account tokens")
	caPath := flag.String("ca", "", "with -tls-address: where to write the certificate clients trust")
	keysDir := flag.String("keys", "", "with -tls-address: the registered service-account keys, KID.json")
	minAck := flag.Duration("min-ack-deadline", 0, "the shortest ack deadline accepted (default: pstest's, 10s)")
	flag.Parse()
	if *minAck > 0 {
		if *minAck < time.Second {
			fmt.Fprintln(os.Stderr, "pstest-server: -min-ack-deadline must be at least 1s")
			os.Exit(2)
		}
		pstest.SetMinAckDeadline(*minAck)
	}
	server := pstest.NewServerWithAddress(*address)
	fmt.Printf("listening on %s\n", server.Addr)
	if *tlsAddress != "" {
		address, err := serveFront(server, *tlsAddress, *caPath, *keysDir)
		if err != nil {
			fmt.Fprintln(os.Stderr, "pstest-server:", err)
			os.Exit(1)
		}
		fmt.Printf("tls listening on %s\n", address)
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	<-stop
	server.Close()
}
