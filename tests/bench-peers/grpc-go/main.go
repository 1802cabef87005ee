// The grpc-go peer of scripts/bench-grpc: `wire.v1.Echo/Say` served by grpc-go with the same
// work as the generated Rust server — decode the request message, build the response message
// (the text and the number back), encode it. The messages are read and written with protowire
// (what protoc-gen-go's generated code does underneath), so no generated Go code is needed and
// it builds offline from Debian's packages:
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o grpc-go-peer .
//
// Usage: grpc-go-peer 127.0.0.1:PORT
package main

import (
	"context"
	"fmt"
	"net"
	"os"

	"google.golang.org/grpc"
	"google.golang.org/grpc/encoding"
	"google.golang.org/protobuf/encoding/protowire"
)

// say is wire.v1's SayRequest and SayResponse: `string text = 1; int32 n = 2;`.
type say struct {
	Text string
	N    int32
}

func (m *say) marshal() []byte {
	var b []byte
	if m.Text != "" {
		b = protowire.AppendTag(b, 1, protowire.BytesType)
		b = protowire.AppendString(b, m.Text)
	}
	if m.N != 0 {
		b = protowire.AppendTag(b, 2, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(int64(m.N)))
	}
	return b
}

func (m *say) unmarshal(b []byte) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		switch {
		case num == 1 && typ == protowire.BytesType:
			v, n := protowire.ConsumeString(b)
			if n < 0 {
				return protowire.ParseError(n)
			}
			m.Text, b = v, b[n:]
		case num == 2 && typ == protowire.VarintType:
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return protowire.ParseError(n)
			}
			m.N, b = int32(v), b[n:]
		default:
			n := protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return protowire.ParseError(n)
			}
			b = b[n:]
		}
	}
	return nil
}

// codec is grpc-go's "proto" codec for the one message type.
type codec struct{}

func (codec) Name() string { return "proto" }

func (codec) Marshal(v interface{}) ([]byte, error) { return v.(*say).marshal(), nil }

func (codec) Unmarshal(data []byte, v interface{}) error { return v.(*say).unmarshal(data) }

type echo interface{}

type server struct{}

func sayHandler(srv interface{}, ctx context.Context, dec func(interface{}) error, _ grpc.UnaryServerInterceptor) (interface{}, error) {
	in := new(say)
	if err := dec(in); err != nil {
		return nil, err
	}
	return &say{Text: in.Text, N: in.N}, nil
}

var desc = grpc.ServiceDesc{
	ServiceName: "wire.v1.Echo",
	HandlerType: (*echo)(nil),
	Methods:     []grpc.MethodDesc{{MethodName: "Say", Handler: sayHandler}},
	Metadata:    "wire/v1/wire.proto",
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: grpc-go-peer ADDR")
		os.Exit(2)
	}
	encoding.RegisterCodec(codec{})
	lis, err := net.Listen("tcp", os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	s := grpc.NewServer()
	s.RegisterService(&desc, &server{})
	fmt.Println("serving on", lis.Addr())
	if err := s.Serve(lis); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
