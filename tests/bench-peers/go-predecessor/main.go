// The Go predecessor's stack, for scripts/bench-go-predecessor: fasthttp serving JSON-RPC 2.0
// with jsoniter, a zerolog JSON line per call on stdout, and Prometheus metrics with the
// platform library's names (service_requests_count, service_requests_all_count,
// service_requests_latency_microseconds) at /metrics. It serves the benchmark's one method,
// `sum`, as svcc's benchmark server does. Built offline from Debian's Go packages.
package main

import (
	"fmt"
	"math/rand"
	"os"
	"strconv"
	"time"

	jsoniter "github.com/json-iterator/go"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/rs/zerolog"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttpadaptor"
)

var json = jsoniter.ConfigCompatibleWithStandardLibrary

type request struct {
	JSONRPC string              `json:"jsonrpc"`
	Method  string              `json:"method"`
	Params  jsoniter.RawMessage `json:"params"`
	ID      jsoniter.RawMessage `json:"id"`
}

type sumParams struct {
	A int32 `json:"a"`
	B int32 `json:"b"`
	C int32 `json:"c"`
}

type rpcError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

type response struct {
	JSONRPC string              `json:"jsonrpc"`
	Result  interface{}         `json:"result,omitempty"`
	Error   *rpcError           `json:"error,omitempty"`
	ID      jsoniter.RawMessage `json:"id"`
}

var (
	requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "service_requests_count", Help: "Requests by method, service and success.",
	}, []string{"method", "service", "success"})
	all = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "service_requests_all_count", Help: "All requests.",
	}, []string{"method", "service"})
	latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "service_requests_latency_microseconds", Help: "Latency in microseconds.",
		Buckets: []float64{100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1e6, 2.5e6, 1e7},
	}, []string{"method", "service", "success"})
	logger = zerolog.New(os.Stdout).With().Timestamp().Logger()
)

func requestID(ctx *fasthttp.RequestCtx) string {
	if id := ctx.Request.Header.Peek("X-Request-Id"); len(id) > 0 {
		return string(id)
	}
	return strconv.FormatUint(rand.Uint64(), 16)
}

func rpc(ctx *fasthttp.RequestCtx) {
	started := time.Now()
	id := requestID(ctx)
	ctx.Response.Header.Set("X-Request-Id", id)
	ctx.SetContentType("application/json")
	var req request
	if err := json.Unmarshal(ctx.PostBody(), &req); err != nil {
		body, _ := json.Marshal(response{JSONRPC: "2.0", Error: &rpcError{-32700, "parse error"}, ID: jsoniter.RawMessage("null")})
		ctx.SetBody(body)
		return
	}
	success := "true"
	var resp response
	resp.JSONRPC, resp.ID = "2.0", req.ID
	switch req.Method {
	case "sum":
		var p sumParams
		if err := json.Unmarshal(req.Params, &p); err != nil {
			resp.Error, success = &rpcError{-32602, "invalid params: " + err.Error()}, "false"
		} else {
			resp.Result = p.A + p.B + p.C
		}
	default:
		resp.Error, success = &rpcError{-32601, "method not found"}, "false"
	}
	body, _ := json.Marshal(resp)
	ctx.SetBody(body)
	elapsed := time.Since(started)
	requests.WithLabelValues(req.Method, "Observed", success).Inc()
	all.WithLabelValues(req.Method, "Observed").Inc()
	latency.WithLabelValues(req.Method, "Observed", success).Observe(float64(elapsed.Microseconds()))
	logger.Info().
		Str("service", "Observed").
		Str("method", req.Method).
		Str("transport", "jsonrpc").
		Str("request_id", id).
		Str("client", ctx.RemoteAddr().String()).
		Str("outcome", map[string]string{"true": "ok", "false": "error"}[success]).
		Float64("duration_ms", float64(elapsed.Nanoseconds())/1e6).
		RawJSON("params", req.Params).
		Interface("result", resp.Result).
		Msg("Observed.sum " + map[string]string{"true": "ok", "false": "failed"}[success])
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: go-predecessor ADDR")
		os.Exit(2)
	}
	prometheus.MustRegister(requests, all, latency)
	metrics := fasthttpadaptor.NewFastHTTPHandler(promhttp.Handler())
	handler := func(ctx *fasthttp.RequestCtx) {
		switch string(ctx.Path()) {
		case "/rpc":
			rpc(ctx)
		case "/metrics":
			metrics(ctx)
		default:
			ctx.SetStatusCode(404)
		}
	}
	if err := fasthttp.ListenAndServe(os.Args[1], handler); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
