// Command franz runs one scenario of franz-go (kgo and kadm) against a broker, for the conformance tests:
//
//	franz <scenario> <bootstrap> <args...>
//
// It prints what it observed as key=value lines; any error exits 1 with the error on stderr.
//
//	produce <topic> <count>          idempotent producer (franz-go's default), acks=all, keys k<i>, headers
//	consume <topic> <group> <count>  one group member: polls until count records, commits, prints them
//	group <topic> <group> <count>    two members (cooperative-sticky, franz-go's default balancer): the
//	                                 assignment alone, after the second joins, after it leaves
//	                                 (FRANZ_GROUP_PROTOCOL=consumer: both with KIP-848's protocol)
//	admin <topic>                    kadm: create, list, describe, alter configs, partitions, offsets,
//	                                 delete records, groups, lag, delete
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

const deadline = 60 * time.Second

func out(key string, value any) { fmt.Printf("%s=%v\n", key, value) }

func fail(err error) {
	fmt.Fprintln(os.Stderr, "franz:", err)
	os.Exit(1)
}

func must(err error) {
	if err != nil {
		fail(err)
	}
}

func main() {
	if len(os.Args) < 3 {
		fail(errors.New("usage: franz <scenario> <bootstrap> <args...>"))
	}
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	scenario, bootstrap, args := os.Args[1], os.Args[2], os.Args[3:]
	switch scenario {
	case "produce":
		produce(ctx, bootstrap, args[0], atoi(args[1]))
	case "consume":
		consume(ctx, bootstrap, args[0], args[1], atoi(args[2]))
	case "group":
		group(ctx, bootstrap, args[0], args[1], atoi(args[2]))
	case "admin":
		admin(ctx, bootstrap, args[0])
	default:
		fail(fmt.Errorf("unknown scenario %q", scenario))
	}
}

func atoi(s string) int {
	n, err := strconv.Atoi(s)
	must(err)
	return n
}

func produce(ctx context.Context, bootstrap, topic string, count int) {
	// gzip rather than franz-go's default snappy: kafkajs, which reads these records back, decodes only gzip.
	cl, err := kgo.NewClient(kgo.SeedBrokers(bootstrap), kgo.RequiredAcks(kgo.AllISRAcks()), kgo.ProducerLinger(5*time.Millisecond),
		kgo.ProducerBatchCompression(kgo.GzipCompression()))
	must(err)
	defer cl.Close()
	records := make([]*kgo.Record, count)
	for i := range records {
		records[i] = &kgo.Record{
			Topic:   topic,
			Key:     []byte(fmt.Sprintf("k%d", i)),
			Value:   []byte(fmt.Sprintf("go-%d", i)),
			Headers: []kgo.RecordHeader{{Key: "ce_type", Value: []byte("conformance.Franz")}, {Key: "n", Value: []byte(strconv.Itoa(i))}},
		}
	}
	results := cl.ProduceSync(ctx, records...)
	must(results.FirstErr())
	for _, r := range results {
		out("sent", fmt.Sprintf("%d:%d", r.Record.Partition, r.Record.Offset))
	}
}

func groupClient(bootstrap, topic, group string, opts ...kgo.Opt) *kgo.Client {
	base := []kgo.Opt{
		kgo.SeedBrokers(bootstrap),
		kgo.ConsumerGroup(group),
		kgo.ConsumeTopics(topic),
		kgo.DisableAutoCommit(),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxWait(200 * time.Millisecond),
		kgo.HeartbeatInterval(500 * time.Millisecond),
		kgo.SessionTimeout(10 * time.Second),
	}
	// FRANZ_GROUP_PROTOCOL=consumer: KIP-848's protocol, the broker assigning with its uniform assignor
	// (what franz-go asks for with its default cooperative-sticky balancer).
	if os.Getenv("FRANZ_GROUP_PROTOCOL") == "consumer" {
		base = append(base, kgo.ServerSideBalancer())
	}
	cl, err := kgo.NewClient(append(base, opts...)...)
	must(err)
	return cl
}

func consume(ctx context.Context, bootstrap, topic, group string, count int) {
	cl := groupClient(bootstrap, topic, group)
	defer cl.Close()
	var lines []string
	for len(lines) < count {
		fetches := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			fail(fmt.Errorf("only %d of %d records arrived: %w", len(lines), count, err))
		}
		fetches.EachError(func(t string, p int32, err error) { fail(fmt.Errorf("fetch %s[%d]: %w", t, p, err)) })
		fetches.EachRecord(func(r *kgo.Record) {
			var headers []string
			for _, h := range r.Headers {
				headers = append(headers, h.Key+":"+string(h.Value))
			}
			lines = append(lines, fmt.Sprintf("%d:%d %s %s [%s]", r.Partition, r.Offset, r.Key, r.Value, strings.Join(headers, ",")))
		})
	}
	for _, line := range lines[:count] {
		out("record", line)
	}
	must(cl.CommitUncommittedOffsets(ctx))
	committed := cl.CommittedOffsets()[topic]
	partitions := make([]int, 0, len(committed))
	for p := range committed {
		partitions = append(partitions, int(p))
	}
	sort.Ints(partitions)
	for _, p := range partitions {
		out("committed", fmt.Sprintf("%d:%d", p, committed[int32(p)].Offset))
	}
}

// member polls on its own goroutine and keeps the partitions it owns, as its callbacks report them.
type member struct {
	cl       *kgo.Client
	mu       sync.Mutex
	owned    map[int32]bool
	keys     map[string]bool
	stopped  chan struct{}
	stopOnce sync.Once
}

func newMember(bootstrap, topic, group string, keys map[string]bool, keysMu *sync.Mutex) *member {
	m := &member{owned: map[int32]bool{}, keys: keys, stopped: make(chan struct{})}
	m.cl = groupClient(bootstrap, topic, group,
		kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, assigned map[string][]int32) {
			m.mu.Lock()
			defer m.mu.Unlock()
			for _, p := range assigned[topic] {
				m.owned[p] = true
			}
		}),
		kgo.OnPartitionsRevoked(func(ctx context.Context, cl *kgo.Client, revoked map[string][]int32) {
			_ = cl.CommitUncommittedOffsets(ctx)
			m.mu.Lock()
			defer m.mu.Unlock()
			for _, p := range revoked[topic] {
				delete(m.owned, p)
			}
		}),
		kgo.OnPartitionsLost(func(_ context.Context, _ *kgo.Client, lost map[string][]int32) {
			m.mu.Lock()
			defer m.mu.Unlock()
			for _, p := range lost[topic] {
				delete(m.owned, p)
			}
		}),
	)
	go func() {
		defer close(m.stopped)
		for {
			fetches := m.cl.PollFetches(context.Background())
			if fetches.IsClientClosed() {
				return
			}
			fetches.EachRecord(func(r *kgo.Record) {
				keysMu.Lock()
				keys[string(r.Key)] = true
				keysMu.Unlock()
			})
			_ = m.cl.CommitUncommittedOffsets(context.Background())
		}
	}()
	return m
}

func (m *member) assignment() []int {
	m.mu.Lock()
	defer m.mu.Unlock()
	var ps []int
	for p := range m.owned {
		ps = append(ps, int(p))
	}
	sort.Ints(ps)
	return ps
}

func (m *member) leave() {
	m.stopOnce.Do(func() {
		m.cl.Close()
		<-m.stopped
	})
}

func waitUntil(ctx context.Context, what string, cond func() bool) {
	for !cond() {
		if ctx.Err() != nil {
			fail(fmt.Errorf("timed out waiting for %s", what))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func group(ctx context.Context, bootstrap, topic, groupID string, count int) {
	keys := map[string]bool{}
	var keysMu sync.Mutex
	first := newMember(bootstrap, topic, groupID, keys, &keysMu)
	defer first.leave()
	waitUntil(ctx, "the first member's assignment", func() bool { return len(first.assignment()) == 4 })
	out("first-alone", first.assignment())

	second := newMember(bootstrap, topic, groupID, keys, &keysMu)
	defer second.leave()
	waitUntil(ctx, "the split between two members", func() bool {
		a, b := first.assignment(), second.assignment()
		return len(b) > 0 && len(a)+len(b) == 4
	})
	out("first-shared", first.assignment())
	out("second-shared", second.assignment())

	adm := kadm.NewClient(first.cl)
	described, err := adm.DescribeGroups(ctx, groupID)
	must(err)
	g := described[groupID]
	must(g.Err)
	out("members", len(g.Members))
	out("state", g.State)
	out("protocol", g.Protocol)

	second.leave()
	waitUntil(ctx, "the first member taking every partition back", func() bool { return len(first.assignment()) == 4 })
	out("first-after-leave", first.assignment())
	waitUntil(ctx, "every record", func() bool {
		keysMu.Lock()
		defer keysMu.Unlock()
		return len(keys) >= count
	})
	out("keys", len(keys))
}

func admin(ctx context.Context, bootstrap, topic string) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(bootstrap))
	must(err)
	defer cl.Close()
	adm := kadm.NewClient(cl)

	brokers, err := adm.ListBrokers(ctx)
	must(err)
	out("brokers", len(brokers))

	retention := "3600000"
	created, err := adm.CreateTopic(ctx, 2, 1, map[string]*string{"retention.ms": &retention}, topic)
	must(err)
	must(created.Err)
	out("created", created.Topic)
	again, err := adm.CreateTopic(ctx, 2, 1, nil, topic)
	if err == nil {
		err = again.Err
	}
	out("create-again", errName(err))

	details, err := adm.ListTopics(ctx, topic)
	must(err)
	out("partitions", len(details[topic].Partitions))

	configs, err := adm.DescribeTopicConfigs(ctx, topic)
	must(err)
	rc, err := configs.On(topic, nil)
	must(err)
	out("retention.ms", configValue(rc, "retention.ms"))

	newRetention, maxBytes := "7200000", "500000"
	altered, err := adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{
		{Op: kadm.SetConfig, Name: "retention.ms", Value: &newRetention},
		{Op: kadm.SetConfig, Name: "max.message.bytes", Value: &maxBytes},
	}, topic)
	must(err)
	for _, a := range altered {
		must(a.Err)
	}
	configs, err = adm.DescribeTopicConfigs(ctx, topic)
	must(err)
	rc, err = configs.On(topic, nil)
	must(err)
	out("altered.retention.ms", configValue(rc, "retention.ms"))
	out("altered.max.message.bytes", configValue(rc, "max.message.bytes"))

	_, err = adm.CreatePartitions(ctx, 1, topic)
	must(err)
	details, err = adm.ListTopics(ctx, topic)
	must(err)
	out("grown", len(details[topic].Partitions))

	base := time.Now().Add(-time.Minute)
	records := make([]*kgo.Record, 10)
	for i := range records {
		records[i] = &kgo.Record{Topic: topic, Partition: 0, Key: []byte(fmt.Sprintf("k%d", i)), Value: []byte("v"), Timestamp: base.Add(time.Duration(i) * time.Second)}
	}
	producer, err := kgo.NewClient(kgo.SeedBrokers(bootstrap), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	must(err)
	must(producer.ProduceSync(ctx, records...).FirstErr())
	producer.Close()

	starts, err := adm.ListStartOffsets(ctx, topic)
	must(err)
	ends, err := adm.ListEndOffsets(ctx, topic)
	must(err)
	start, _ := starts.Lookup(topic, 0)
	end, _ := ends.Lookup(topic, 0)
	out("earliest", start.Offset)
	out("latest", end.Offset)
	byTime, err := adm.ListOffsetsAfterMilli(ctx, base.Add(4500*time.Millisecond).UnixMilli(), topic)
	must(err)
	at, _ := byTime.Lookup(topic, 0)
	out("for-timestamp", at.Offset)

	deleted, err := adm.DeleteRecords(ctx, kadm.Offsets{topic: {0: {Topic: topic, Partition: 0, At: 3}}})
	must(err)
	must(deleted.Error())
	starts, err = adm.ListStartOffsets(ctx, topic)
	must(err)
	start, _ = starts.Lookup(topic, 0)
	out("after-delete-earliest", start.Offset)

	groupID := topic + "-group"
	reader := groupClient(bootstrap, topic, groupID)
	seen := 0
	for seen < 7 {
		fetches := reader.PollFetches(ctx)
		if ctx.Err() != nil {
			fail(fmt.Errorf("only %d records arrived", seen))
		}
		seen += fetches.NumRecords()
	}
	must(reader.CommitUncommittedOffsets(ctx))
	reader.Close()

	listed, err := adm.ListGroups(ctx)
	must(err)
	_, found := listed[groupID]
	out("group-listed", found)
	described, err := adm.DescribeGroups(ctx, groupID)
	must(err)
	out("group-state", described[groupID].State)
	fetched, err := adm.FetchOffsets(ctx, groupID)
	must(err)
	committed, _ := fetched.Lookup(topic, 0)
	out("group-offset-p0", committed.At)
	lags, err := adm.Lag(ctx, groupID)
	must(err)
	lag := lags[groupID]
	must(lag.Error())
	out("group-lag", lag.Lag.Total())

	deletedGroups, err := adm.DeleteGroups(ctx, groupID)
	must(err)
	must(deletedGroups.Error())
	out("group-deleted", true)

	deletedTopics, err := adm.DeleteTopics(ctx, topic)
	must(err)
	must(deletedTopics.Error())
	out("deleted", topic)
}

func configValue(rc kadm.ResourceConfig, name string) string {
	for _, c := range rc.Configs {
		if c.Key == name {
			return c.MaybeValue()
		}
	}
	return "<absent>"
}

// errName is the Kafka error name franz-go decoded (TOPIC_ALREADY_EXISTS), or ok.
func errName(err error) string {
	if err == nil {
		return "ok"
	}
	var kerr interface{ Error() string }
	if errors.As(err, &kerr) {
		return strings.SplitN(kerr.Error(), ":", 2)[0]
	}
	return err.Error()
}
