"""The independent reader of the events checks: confluent-kafka (librdkafka in its wheel) reads
a topic from the beginning and decodes each payload with protobuf's Python runtime from a
descriptor set that protoc compiled from the generated .proto files — no svcc code involved.

Usage: read.py BROKERS TOPIC COUNT DESCRIPTOR_SET [TIMEOUT_SECONDS]
Prints one JSON line per record: key, headers, and the decoded message (protobuf's JSON).
"""
import json
import sys
import time
import uuid

from confluent_kafka import Consumer
from google.protobuf import descriptor_pb2, descriptor_pool, json_format, message_factory

brokers, topic, count, fds_path = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
timeout = float(sys.argv[5]) if len(sys.argv) > 5 else 30.0

fds = descriptor_pb2.FileDescriptorSet()
with open(fds_path, "rb") as f:
    fds.ParseFromString(f.read())
pool = descriptor_pool.DescriptorPool()
for file in fds.file:
    pool.Add(file)

consumer = Consumer({
    "bootstrap.servers": brokers,
    "group.id": "independent-reader-" + uuid.uuid4().hex,
    "auto.offset.reset": "earliest",
    "enable.auto.commit": False,
    "session.timeout.ms": 6000,
    "heartbeat.interval.ms": 500,
})
consumer.subscribe([topic])
seen = 0
deadline = time.time() + timeout
while seen < count and time.time() < deadline:
    m = consumer.poll(0.5)
    if m is None:
        continue
    if m.error():
        print(json.dumps({"error": str(m.error())}), flush=True)
        continue
    headers = {k: v.decode() for k, v in (m.headers() or [])}
    name = headers.get("svcc-event")
    out = {"key": m.key().decode() if m.key() else None, "headers": headers}
    if headers.get("content-type") == "application/x-protobuf" and name:
        cls = message_factory.GetMessageClass(pool.FindMessageTypeByName(name))
        msg = cls()
        msg.ParseFromString(m.value())
        out["message"] = json_format.MessageToDict(msg)
    else:
        out["message"] = json.loads(m.value())
    print(json.dumps(out), flush=True)
    seen += 1
consumer.close()
if seen < count:
    sys.exit(f"read {seen} of {count} records from {topic}")
