// A micrologic in Go behind a Shoal sidecar, standard library only: the tests run it to exercise the
// sidecar's contract from a second language (test/sidecar/micrologics.test.ts).
//
//	PORT               its HTTP port
//	SHOAL_SIDECAR_URL  its sidecar's API
//
// On OrderShipped it counts the customer's shipped orders in the sidecar's state (read with its ETag, written
// back in the answer only over that ETag) and answers with a PointsAwarded of one point; on its "tick" timer
// it publishes a PointsAwarded through POST /v1/events with an id of its own, twice, as a client retrying
// after a lost answer would.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/url"
	"os"
)

var sidecar = os.Getenv("SHOAL_SIDECAR_URL")

// #region state
// readState returns the value under key and its ETag, or nil and "" when there is none.
func readState(key string) (map[string]any, string, error) {
	response, err := http.Get(sidecar + "/v1/state/" + url.PathEscape(key))
	if err != nil {
		return nil, "", err
	}
	defer response.Body.Close()
	if response.StatusCode == http.StatusNotFound {
		return nil, "", nil
	}
	if response.StatusCode != http.StatusOK {
		return nil, "", fmt.Errorf("GET state %s: %d", key, response.StatusCode)
	}
	var value map[string]any
	if err := json.NewDecoder(response.Body).Decode(&value); err != nil {
		return nil, "", err
	}
	return value, response.Header.Get("ETag"), nil
}

// #endregion state

// #region order-shipped
type shipped struct {
	OrderID    string `json:"orderId"`
	CustomerID string `json:"customerId"`
	ShippedAt  int64  `json:"shippedAt"`
}

func orderShipped(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("ce-type") != "shoal.orders.OrderShipped" || r.Header.Get("ce-id") == "" {
		http.Error(w, "not a binary-mode OrderShipped CloudEvent", http.StatusBadRequest)
		return
	}
	var data shipped
	if err := json.NewDecoder(r.Body).Decode(&data); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	key := "shipped/" + data.CustomerID
	count, etag, err := readState(key)
	if err != nil {
		http.Error(w, err.Error(), http.StatusServiceUnavailable) // retried by the sidecar
		return
	}
	orders := 0.0
	if count != nil {
		orders = count["orders"].(float64)
	}
	var expected any // null: the key must still be absent
	if etag != "" {
		expected = etag
	}
	answer := map[string]any{
		"events": []any{map[string]any{
			"type":    "shoal.loyalty.PointsAwarded",
			"subject": data.OrderID,
			"data": map[string]any{
				"orderId": data.OrderID, "customerId": data.CustomerID, "points": 1,
				"total":   map[string]any{"amount": 100, "currency": "EUR"},
				"balance": orders + 1, "awardedAt": data.ShippedAt,
			},
		}},
		"state": []any{map[string]any{"key": key, "value": map[string]any{"orders": orders + 1}, "etag": expected}},
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(answer)
}

// #endregion order-shipped

// #region publish
func tick(w http.ResponseWriter, r *http.Request) {
	var data struct {
		ScheduledAt int64 `json:"scheduledAt"`
	}
	if err := json.NewDecoder(r.Body).Decode(&data); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	event, _ := json.Marshal(map[string]any{
		"id":      fmt.Sprintf("tick-%d", data.ScheduledAt),
		"type":    "shoal.loyalty.PointsAwarded",
		"subject": "ticks",
		"data": map[string]any{
			"orderId": "ticks", "customerId": "go", "points": 0,
			"total": map[string]any{"amount": 0, "currency": "EUR"}, "balance": 0, "awardedAt": data.ScheduledAt,
		},
	})
	// The same request twice, as after a lost answer: the sidecar stores the event once.
	for attempt := 0; attempt < 2; attempt++ {
		response, err := http.Post(sidecar+"/v1/events", "application/cloudevents+json", bytes.NewReader(event))
		if err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		io.Copy(io.Discard, response.Body)
		response.Body.Close()
		if response.StatusCode != http.StatusAccepted {
			http.Error(w, fmt.Sprintf("POST /v1/events answered %d", response.StatusCode), http.StatusInternalServerError)
			return
		}
	}
	w.WriteHeader(http.StatusNoContent)
}

// #endregion publish

func main() {
	http.HandleFunc("/events/order-shipped", orderShipped)
	http.HandleFunc("/timers/tick", tick)
	http.HandleFunc("/health", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	address := "127.0.0.1:" + os.Getenv("PORT")
	log.Printf("listening on http://%s, sidecar %s", address, sidecar)
	log.Fatal(http.ListenAndServe(address, nil))
}
