// The TLS front of the test server: what Google's endpoint adds to Pub/Sub, so qsplit's
// credentials can be tested against Google's server code. It serves the same pstest state over
// TLS (a certificate made at start, written for clients to trust) and refuses, as
// UNAUTHENTICATED, a call without a bearer token that is a service account's JWT (RS256) signed
// by a key registered in the keys directory: a file KID.json holding the key as Google issues
// it, so registering one is copying it there.
package main

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"cloud.google.com/go/pubsub/v2/pstest"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// serveFront serves `server` on `address` over TLS until the process ends; the CA clients
// must trust is written to `caPath`. Returns the address it listens on.
func serveFront(server *pstest.Server, address, caPath, keysDir string) (string, error) {
	certificate, err := selfSigned(caPath)
	if err != nil {
		return "", err
	}
	listener, err := net.Listen("tcp", address)
	if err != nil {
		return "", err
	}
	check := func(ctx context.Context) error { return authorize(ctx, keysDir) }
	front := grpc.NewServer(
		grpc.Creds(credentials.NewTLS(&tls.Config{Certificates: []tls.Certificate{certificate}})),
		grpc.UnaryInterceptor(func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
			if err := check(ctx); err != nil {
				return nil, err
			}
			return handler(ctx, req)
		}),
		grpc.StreamInterceptor(func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
			if err := check(ss.Context()); err != nil {
				return err
			}
			return handler(srv, ss)
		}))
	pubsubpb.RegisterPublisherServer(front, &server.GServer)
	pubsubpb.RegisterSubscriberServer(front, &server.GServer)
	go front.Serve(listener)
	return listener.Addr().String(), nil
}

func selfSigned(caPath string) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	template := x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: "pstest-server"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(30 * 24 * time.Hour),
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:              []string{"localhost"},
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, &template, &template, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	if err := os.WriteFile(caPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

// authorize: "authorization: Bearer JWT", the JWT signed with RS256 by the registered key its
// header's kid names, issued by that key's client_email, for an https audience, not expired.
func authorize(ctx context.Context, keysDir string) error {
	md, _ := metadata.FromIncomingContext(ctx)
	values := md.Get("authorization")
	if len(values) != 1 || !strings.HasPrefix(values[0], "Bearer ") {
		return status.Error(codes.Unauthenticated, "no bearer token")
	}
	parts := strings.Split(strings.TrimPrefix(values[0], "Bearer "), ".")
	if len(parts) != 3 {
		return status.Error(codes.Unauthenticated, "the token is not a JWT")
	}
	var header struct{ Alg, Kid string }
	var claims struct {
		Iss, Sub, Aud string
		Exp, Iat      int64
	}
	if decode(parts[0], &header) != nil || decode(parts[1], &claims) != nil || header.Alg != "RS256" {
		return status.Error(codes.Unauthenticated, "the token is not an RS256 JWT")
	}
	var key struct {
		ClientEmail string `json:"client_email"`
		PrivateKey  string `json:"private_key"`
	}
	text, err := os.ReadFile(filepath.Join(keysDir, filepath.Base(header.Kid)+".json"))
	if err != nil || json.Unmarshal(text, &key) != nil {
		return status.Error(codes.Unauthenticated, fmt.Sprintf("key %q is not registered", header.Kid))
	}
	block, _ := pem.Decode([]byte(key.PrivateKey))
	if block == nil {
		return status.Error(codes.Internal, "the registered key has no PEM private key")
	}
	private, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	rsaKey, isRSA := private.(*rsa.PrivateKey)
	if err != nil || !isRSA {
		return status.Error(codes.Internal, "the registered key is not an RSA key")
	}
	signature, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[2], "=")) // gRPC pads
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err != nil || rsa.VerifyPKCS1v15(&rsaKey.PublicKey, crypto.SHA256, digest[:], signature) != nil {
		return status.Error(codes.Unauthenticated, "the token's signature does not verify")
	}
	now := time.Now().Unix()
	if claims.Iss != key.ClientEmail || claims.Sub != key.ClientEmail || !strings.HasPrefix(claims.Aud, "https://") ||
		claims.Exp <= now || claims.Iat > now+60 {
		return status.Error(codes.Unauthenticated, "the token's claims are wrong or expired")
	}
	return nil
}

func decode(part string, into any) error {
	text, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(part, "="))
	if err != nil {
		return err
	}
	return json.Unmarshal(text, into)
}
