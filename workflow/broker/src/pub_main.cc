// refpub: publisher in the style of Embarcadero's throughput_test (publish-only, ORDER=0).
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <random>

#include "exit_codes.h"
#include "fault_window.h"
#include "flags.h"
#include "log.h"
#include "net.h"
#include "pub.h"
#include "wire.h"

namespace sl {
namespace {

using HostPorts = std::vector<std::pair<std::string, uint16_t>>;

bool parse_settings(int argc, char** argv, PubSettings* s, HostPorts* brokers, ExitCode* code) {
  FlagSet f("refpub");
  f.add_int("-m,--size", &s->msg_bytes, "message payload bytes (default 1024)");
  f.add_int("-s,--total_message_size", &s->total_bytes, "total payload bytes; messages = s / m");
  f.add_int("-n,--num_threads_per_broker", &s->threads_per_broker, "connections per broker (default 4)");
  f.add_int("-o,--order_level", &s->order, "order level (only 0 is implemented)");
  f.add_int("-a,--ack_level", &s->ack_level, "0 = no ACK wait, 1 = wait for ACKs (default 0)");
  f.add_int("--ack-timeout-sec", &s->ack_timeout_sec, "ACK wait timeout in seconds (default 10)");
  f.add_str("-b,--brokers", &s->brokers, "HOST:PORT,HOST:PORT,... (index = broker id)");
  f.add_str("--bind", &s->bind_addr, "IPv4 address the ACK listener binds (default 127.0.0.1; 0.0.0.0 is refused)");
  f.add_int("--batch-bytes", &s->batch_bytes, "batch capacity in bytes (default 2097152)");
  f.add_str("--topic", &s->topic, "topic (default TestTopic)");
  f.add_int("--client-id", &s->client_id, "client id (default random in [32, 999999])");
  f.add_int("--queue-depth", &s->queue_depth, "batches per connection queue (default 4)");
  f.add_int("--producer-cost-ns", &s->producer_cost_ns, "fault: producer cost per message, ns");
  f.add_int("--batch-gap-ms", &s->batch_gap_ms, "fault: sleep before every K-th batch of the fault connection");
  f.add_int("--gap-every", &s->gap_every, "fault: K for --batch-gap-ms (default 1)");
  f.add_int("--gap-count", &s->gap_count, "fault: at most C gaps (0 = unlimited)");
  f.add_int("--fault-broker", &s->fault_broker, "broker whose first connection carries gap/pause/close faults");
  f.add_int("--init-delay-sec", &s->init_delay_sec, "fault: wait before connecting, with hugepage warnings");
  f.add_int("--header-pause-ms", &s->header_pause_ms, "fault: pause after 64 header bytes");
  f.add_int("--header-pause-count", &s->header_pause_count, "fault: number of batches with a header pause");
  f.add_int("--payload-pause-ms", &s->payload_pause_ms, "fault: pause in the middle of the payload");
  f.add_int("--payload-pause-count", &s->payload_pause_count, "fault: number of batches with a payload pause");
  f.add_bool("--close-mid-header", &s->close_mid_header, "fault: after the last batch send 40 header bytes, close");
  f.add_int("--linger-sec", &s->linger_sec, "fault: keep data connections open S s after the last batch and ACKs");
  f.add_int("--ack-latency", &s->ack_latency, "record per-batch ACK latency, 1 = on (default), 0 = off");
  std::string err;
  if (!f.parse(argc, argv, &err)) {
    std::fprintf(stderr, "%s\n", err.c_str());
    *code = err.rfind("usage:", 0) == 0 ? ExitCode::kOk : ExitCode::kUsage;
    return false;
  }
  const char* bad = nullptr;
  if (!parse_host_ports(s->brokers, brokers)) bad = "-b needs HOST:PORT[,HOST:PORT...]";
  else if (s->msg_bytes < 1 || s->total_bytes < s->msg_bytes) bad = "-m must be >= 1 and -s >= -m";
  else if (s->threads_per_broker < 1 || s->queue_depth < 1) bad = "-n and --queue-depth must be >= 1";
  else if (int64_t(padded_msg_bytes(uint64_t(s->msg_bytes))) > s->batch_bytes) bad = "--batch-bytes below one message";
  else if (s->topic.empty() || s->topic.size() > 31) bad = "--topic must have 1..31 characters";
  else if (s->ack_timeout_sec < 1) bad = "--ack-timeout-sec must be >= 1";
  else if (s->fault_broker < 0 || size_t(s->fault_broker) >= brokers->size()) bad = "--fault-broker out of range";
  if (bad) {
    LOGE("Publisher: %s", bad);
    *code = ExitCode::kUsage;
    return false;
  }
  return true;
}

void log_faults(const PubSettings& s) {
  if (s.producer_cost_ns > 0) LOGI("[Fault] producer_cost ns_per_message=%lld", (long long)s.producer_cost_ns);
  if (s.batch_gap_ms > 0)
    LOGI("[Fault] batch_gap ms=%lld every=%lld count=%lld broker=%lld conn=0", (long long)s.batch_gap_ms,
         (long long)s.gap_every, (long long)s.gap_count, (long long)s.fault_broker);
  if (s.init_delay_sec > 0) LOGI("[Fault] init_delay sec=%lld", (long long)s.init_delay_sec);
  if (s.header_pause_ms > 0)
    LOGI("[Fault] header_pause ms=%lld count=%lld split_at=64 broker=%lld conn=0", (long long)s.header_pause_ms,
         (long long)s.header_pause_count, (long long)s.fault_broker);
  if (s.payload_pause_ms > 0)
    LOGI("[Fault] payload_pause ms=%lld count=%lld split_at=half broker=%lld conn=0", (long long)s.payload_pause_ms,
         (long long)s.payload_pause_count, (long long)s.fault_broker);
  if (s.close_mid_header) LOGI("[Fault] close_mid_header bytes=40 broker=%lld conn=0", (long long)s.fault_broker);
  if (s.linger_sec > 0) LOGI("[Fault] linger sec=%lld", (long long)s.linger_sec);
}

void init_delay(const PubSettings& s) {
  LOGW("Hugepages: 6144 free \u00d7 2048 kB = 12288 MB free; need 131082 MB. Provision more (e.g. echo 8192 | "
       "sudo tee /proc/sys/vm/nr_hugepages) or set EMBAR_USE_HUGETLB=0 for THP.");
  LOGI("MAP_HUGETLB failed after 3 retries for 137451536384 bytes. Error: Cannot allocate memory. Falling back to "
       "THP (madvise). Provision sufficient hugepages or set EMBAR_USE_HUGETLB=0 to prefer THP.");
  for (int64_t t = 5; t <= s.init_delay_sec; t += 5) {
    sleep_us(5 * 1000000);
    LOGW("Publisher::Init() waiting for cluster connection... (%llds elapsed)", (long long)t);
  }
  sleep_us((s.init_delay_sec % 5) * 1000000);
}

// Connects every queue's socket and sends the handshake; false on the first failure (logged).
bool connect_all(PubRun& run, const HostPorts& brokers, uint16_t ack_port) {
  for (auto& cp : run.conns) {
    PubConn& c = *cp;
    const auto& hp = brokers[size_t(c.broker)];
    for (int attempt = 0; attempt < 20 && c.fd < 0; ++attempt) {
      c.fd = connect_to(hp.first, hp.second, 1000);
      if (c.fd < 0) sleep_us(250 * 1000);
    }
    if (c.fd < 0) {
      LOGE("PublishThread[%d]: cannot reach broker %d at %s:%u (client_id=%u): %s", c.queue_index, c.broker,
           hp.first.c_str(), hp.second, run.client_id, std::strerror(errno));
      return false;
    }
    set_socket_timeouts(c.fd, 1, 1);
    Handshake hs;
    std::memset(&hs, 0, sizeof hs);
    hs.client_id = run.client_id;
    hs.ack = uint32_t(run.s.ack_level);
    hs.num_msg = brokers.size();
    hs.port = ack_port;
    hs.request = kRequestPublish;
    std::snprintf(hs.topic, sizeof hs.topic, "%s", run.s.topic.c_str());
    if (!send_all(c.fd, &hs, sizeof hs, nullptr, nullptr, &run.stop)) {
      LOGE("PublishThread[%d]: handshake to broker %d (client_id=%u) did not go through: %s", c.queue_index,
           c.broker, run.client_id, std::strerror(errno));
      return false;
    }
    LOGI("PublishThread: Handshake sent successfully to broker %d (client_id=%u, topic=%s)", c.broker,
         run.client_id, run.s.topic.c_str());
  }
  return true;
}

}  // namespace

int run_main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  PubSettings s;
  HostPorts brokers;
  ExitCode code = ExitCode::kOk;
  if (!parse_settings(argc, argv, &s, &brokers, &code)) return exit_value(code);
  if (s.client_id < 0) {
    std::random_device rd;
    s.client_id = std::uniform_int_distribution<int64_t>(32, 999999)(rd);
  }
  LOGI("\n\n===== Publish Throughput Test =====\n\t  Message size: %lld bytes\n\t  Total message size: %lld bytes"
       "\n\t  Threads per broker: %lld\n\t  ACK level: %lld\n\t  Order level: %lld\n\t  Sequencer: EMBARCADERO",
       (long long)s.msg_bytes, (long long)s.total_bytes, (long long)s.threads_per_broker, (long long)s.ack_level,
       (long long)s.order);
  PubRun run(s, uint32_t(s.client_id), uint64_t(s.total_bytes / s.msg_bytes),
             uint64_t(s.batch_bytes) / padded_msg_bytes(uint64_t(s.msg_bytes)));
  const size_t n = size_t(s.threads_per_broker);
  for (size_t b = 0; b < brokers.size(); ++b)
    for (size_t k = 0; k < n; ++k) {
      run.conns.emplace_back(new PubConn(int(b), int(k), int(b * n + k), size_t(s.queue_depth)));
      run.conns.back()->fault_target = int64_t(b) == s.fault_broker && k == 0;
    }
  LOGI("[PublisherConfig] client_id=%u brokers=%zu queues=%zu messages=%llu msgs_per_batch=%llu order=%lld "
       "topic=%s", run.client_id, brokers.size(), run.conns.size(), (unsigned long long)run.total_msgs,
       (unsigned long long)run.msgs_per_batch, (long long)s.order, s.topic.c_str());
  log_faults(s);
  if (s.init_delay_sec > 0) {
    fault_window("start", "init_delay");
    init_delay(s);
    fault_window("stop", "init_delay");
  }
  uint16_t ack_port = 0;
  const int lfd = listen_on(s.bind_addr, 0, &ack_port);
  if (lfd < 0) {
    LOGE("Publisher: cannot open the ACK listener on %s (client_id=%u): %s", s.bind_addr.c_str(), run.client_id,
         std::strerror(errno));
    return exit_value(ExitCode::kListen);
  }
  AckCollector acks(brokers.size());
  AckLatency latency(brokers.size(), s.ack_latency != 0);
  run.latency = &latency;
  acks.set_latency(&latency);
  if (!connect_all(run, brokers, ack_port)) return exit_value(ExitCode::kConnect);
  const size_t got = acks.accept_all(lfd, 10000);
  ::close(lfd);
  if (got < brokers.size())
    LOGW("Publisher::Init() ACK connection timeout after 10s. Only %zu of %zu brokers connected", got, brokers.size());
  else
    LOGI("Publisher::Init() All %zu broker ACK connections established", got);
  LOGI("[Phase] init_done");
  LOGI("[Phase] publish_start");
  const int64_t t_start = now_us();
  latency.start(t_start);
  // Like Embarcadero's test, the ACK timeout bounds the whole publish: a producer too slow to hand over every
  // message in time stops at the deadline, and the run ends in the timeout block with the shortfall.
  if (run.s.ack_level >= 1) run.deadline_us = t_start + run.s.ack_timeout_sec * 1000000;
  mark_tcp_phase(run);
  std::vector<std::thread> senders;
  for (auto& c : run.conns) senders.emplace_back([&run, &c] { run_sender(run, *c); });
  std::thread producer([&run] { run_producer(run); });
  producer.join();
  for (std::thread& t : senders) t.join();
  LOGI("[Phase] send_done");
  mark_tcp_phase(run);
  return finish_run(run, acks, brokers.size(), t_start);
}

}  // namespace sl

int main(int argc, char** argv) { return sl::run_main(argc, argv); }
