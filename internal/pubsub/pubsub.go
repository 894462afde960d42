// Package pubsub applies the messages other replicas publish on a Redis channel, the way the
// in-process caches learn that an entry changed elsewhere.
package pubsub

import (
	"context"

	"github.com/redis/go-redis/v9"
)

// Each calls apply with the payload of every message published on channel until ctx ends or
// the subscription closes. A nil client means a single process: there is nobody to listen to.
func Each(ctx context.Context, rdb *redis.Client, channel string, apply func(payload string)) {
	if rdb == nil {
		return
	}
	sub := rdb.Subscribe(ctx, channel)
	defer sub.Close()
	ch := sub.Channel()
	for {
		select {
		case <-ctx.Done():
			return
		case msg, ok := <-ch:
			if !ok {
				return
			}
			apply(msg.Payload)
		}
	}
}
