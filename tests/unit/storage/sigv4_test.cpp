// SigV4 checked against AWS's published examples: the four S3 "Signature Calculations for the
// Authorization Header: Transferring Payload in a Single Chunk" examples (GET Object, PUT Object,
// GET Bucket Lifecycle, GET Bucket (List Objects)), the "Authenticating Requests: Using Query
// Parameters" presigned URL, and the IAM guide's signing-key derivation. Each example is checked
// stage by stage (canonical request hash, then signature) so a failure names the stage that broke.
#include <gtest/gtest.h>

#include <chrono>
#include <stdexcept>

#include "packs/storage/sigv4.hpp"

using namespace mcpd::packs::storage::sigv4;

namespace {

// The credentials and moment of every S3 example: Fri, 24 May 2013 00:00:00 GMT, us-east-1.
const Credentials kExampleCredentials{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""};
const Scope kExampleScope{"us-east-1", "s3"};
const std::chrono::system_clock::time_point kExampleTime =
    std::chrono::system_clock::time_point{std::chrono::seconds{1369353600}};
constexpr const char* kExampleHost = "examplebucket.s3.amazonaws.com";

std::string signed_headers_of(const std::string& authorization) {
  auto start = authorization.find("SignedHeaders=");
  auto end = authorization.find(',', start);
  return authorization.substr(start + 14, end - start - 14);
}

}  // namespace

TEST(SigV4, GetObjectExample) {
  Request r;
  r.method = "GET";
  r.path = "/test.txt";
  r.headers = {{"Host", kExampleHost}, {"Range", "bytes=0-9"}};
  r.payload_hash = std::string(kEmptyPayloadSha256);
  const SignedRequest s = sign_request(r, kExampleCredentials, kExampleScope, kExampleTime);

  EXPECT_EQ(s.canonical_request,
            "GET\n"
            "/test.txt\n"
            "\n"
            "host:examplebucket.s3.amazonaws.com\n"
            "range:bytes=0-9\n"
            "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
            "x-amz-date:20130524T000000Z\n"
            "\n"
            "host;range;x-amz-content-sha256;x-amz-date\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(s.string_to_sign,
            "AWS4-HMAC-SHA256\n"
            "20130524T000000Z\n"
            "20130524/us-east-1/s3/aws4_request\n"
            "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
  EXPECT_EQ(s.signature, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
  EXPECT_EQ(s.authorization,
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
            "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(SigV4, PutObjectExample) {
  const std::string body = "Welcome to Amazon S3.";
  Request r;
  r.method = "PUT";
  r.path = "/test$file.text";  // '$' is encoded once, as %24
  r.headers = {{"Host", kExampleHost},
               {"Date", "Fri, 24 May 2013 00:00:00 GMT"},
               {"x-amz-storage-class", "REDUCED_REDUNDANCY"}};
  r.payload_hash = sha256_hex(body);
  EXPECT_EQ(r.payload_hash, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  const SignedRequest s = sign_request(r, kExampleCredentials, kExampleScope, kExampleTime);

  EXPECT_EQ(s.canonical_request,
            "PUT\n"
            "/test%24file.text\n"
            "\n"
            "date:Fri, 24 May 2013 00:00:00 GMT\n"
            "host:examplebucket.s3.amazonaws.com\n"
            "x-amz-content-sha256:44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072\n"
            "x-amz-date:20130524T000000Z\n"
            "x-amz-storage-class:REDUCED_REDUNDANCY\n"
            "\n"
            "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class\n"
            "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  EXPECT_EQ(sha256_hex(s.canonical_request), "9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d");
  EXPECT_EQ(s.signature, "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
  EXPECT_EQ(signed_headers_of(s.authorization), "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class");
}

TEST(SigV4, GetBucketLifecycleExample) {
  Request r;
  r.method = "GET";
  r.path = "/";
  r.query = {{"lifecycle", ""}};  // a sub-resource without a value is signed as "lifecycle="
  r.headers = {{"Host", kExampleHost}};
  const SignedRequest s = sign_request(r, kExampleCredentials, kExampleScope, kExampleTime);

  EXPECT_EQ(s.canonical_request,
            "GET\n"
            "/\n"
            "lifecycle=\n"
            "host:examplebucket.s3.amazonaws.com\n"
            "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
            "x-amz-date:20130524T000000Z\n"
            "\n"
            "host;x-amz-content-sha256;x-amz-date\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex(s.canonical_request), "9766c798316ff2757b517bc739a67f6213b4ab36dd5da2f94eaebf79c77395ca");
  EXPECT_EQ(s.signature, "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
}

TEST(SigV4, ListObjectsExample) {
  Request r;
  r.method = "GET";
  r.path = "/";
  r.query = {{"prefix", "J"}, {"max-keys", "2"}};  // given out of order: the signer sorts them
  r.headers = {{"Host", kExampleHost}};
  const SignedRequest s = sign_request(r, kExampleCredentials, kExampleScope, kExampleTime);

  EXPECT_EQ(s.canonical_request,
            "GET\n"
            "/\n"
            "max-keys=2&prefix=J\n"
            "host:examplebucket.s3.amazonaws.com\n"
            "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
            "x-amz-date:20130524T000000Z\n"
            "\n"
            "host;x-amz-content-sha256;x-amz-date\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex(s.canonical_request), "df57d21db20da04d7fa30298dd4488ba3a2b47ca3a489c74750e0f1e7df1b9b7");
  EXPECT_EQ(s.signature, "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

TEST(SigV4, PresignedUrlExample) {
  Request r;
  r.method = "GET";
  r.path = "/test.txt";
  r.headers = {{"Host", kExampleHost}};
  const PresignedRequest p = presign(r, kExampleCredentials, kExampleScope, kExampleTime, 86400);

  EXPECT_EQ(p.canonical_request,
            "GET\n"
            "/test.txt\n"
            "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2F"
            "aws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host\n"
            "host:examplebucket.s3.amazonaws.com\n"
            "\n"
            "host\n"
            "UNSIGNED-PAYLOAD");
  EXPECT_EQ(p.string_to_sign,
            "AWS4-HMAC-SHA256\n"
            "20130524T000000Z\n"
            "20130524/us-east-1/s3/aws4_request\n"
            "3bfa292879f6447bbcda7001decf97f4a54dc650c8942174ae0a9121cf58ad04");
  EXPECT_EQ(p.signature, "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
  EXPECT_EQ("https://" + std::string(kExampleHost) + canonical_uri(r.path) + "?" + p.query,
            "https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256"
            "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
            "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
            "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
}

TEST(SigV4, SigningKeyMatchesTheIamGuideExample) {
  // "Derive a signing key": secret wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY, 20150830/us-east-1/iam.
  const std::string key = signing_key("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20150830", Scope{"us-east-1", "iam"});
  ASSERT_EQ(key.size(), 32u);
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  for (unsigned char c : key) {
    hex += kDigits[c >> 4];
    hex += kDigits[c & 0xF];
  }
  EXPECT_EQ(hex, "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9");
}

TEST(SigV4, UriEncodingFollowsAwsRules) {
  EXPECT_EQ(uri_encode("AZaz09-._~", true), "AZaz09-._~");
  EXPECT_EQ(uri_encode("a b+c%d", true), "a%20b%2Bc%25d");
  EXPECT_EQ(uri_encode("!'()*$&=?#", true), "%21%27%28%29%2A%24%26%3D%3F%23");
  EXPECT_EQ(uri_encode("dir/file", true), "dir%2Ffile");
  EXPECT_EQ(uri_encode("dir/file", false), "dir/file");
  EXPECT_EQ(uri_encode("\xC3\xA9\xE6\x97\xA5", true), "%C3%A9%E6%97%A5");  // é 日: each UTF-8 byte
  // Object paths are encoded once: an already-encoded-looking key keeps its '%' as data.
  EXPECT_EQ(canonical_uri("/bucket/100% sure/a%20b"), "/bucket/100%25%20sure/a%2520b");
  EXPECT_EQ(canonical_uri(""), "/");
  EXPECT_EQ(canonical_uri("/bucket//double"), "/bucket//double");
}

TEST(SigV4, CanonicalQuerySortsEncodedNamesThenValues) {
  EXPECT_EQ(canonical_query_string({{"prefix", "a b/c"}, {"list-type", "2"}, {"delimiter", "/"}}),
            "delimiter=%2F&list-type=2&prefix=a%20b%2Fc");
  EXPECT_EQ(canonical_query_string({{"k", "b"}, {"k", "a"}, {"K", "z"}}), "K=z&k=a&k=b");
  EXPECT_EQ(canonical_query_string({{"continuation-token", "1+2="}}), "continuation-token=1%2B2%3D");
  EXPECT_EQ(canonical_query_string({}), "");
}

TEST(SigV4, CanonicalHeadersTrimLowerSortAndMerge) {
  const CanonicalHeaders h =
      canonical_headers({{"X-Amz-Meta-Note", "  two   spaces  "}, {"Host", "h:9000"}, {"x-amz-meta-note", "again"}});
  EXPECT_EQ(h.block, "host:h:9000\nx-amz-meta-note:two spaces,again\n");
  EXPECT_EQ(h.signed_headers, "host;x-amz-meta-note");
}

TEST(SigV4, DatesAreUtc) {
  const auto t = std::chrono::system_clock::time_point{std::chrono::seconds{1440938160}};  // 2015-08-30 12:36 UTC
  EXPECT_EQ(amz_date(t), "20150830T123600Z");
  EXPECT_EQ(date_stamp(t), "20150830");
  EXPECT_EQ(credential_scope("20150830", Scope{"eu-west-3", "s3"}), "20150830/eu-west-3/s3/aws4_request");
}

TEST(SigV4, UnsignedPayloadIsSentAndSigned) {
  Request r;
  r.method = "PUT";
  r.path = "/b/k";
  r.headers = {{"Host", "127.0.0.1:9000"}};
  r.payload_hash = std::string(kUnsignedPayload);
  const SignedRequest s = sign_request(r, kExampleCredentials, kExampleScope, kExampleTime);
  EXPECT_NE(s.canonical_request.find("x-amz-content-sha256:UNSIGNED-PAYLOAD\n"), std::string::npos);
  EXPECT_TRUE(s.canonical_request.ends_with("\nUNSIGNED-PAYLOAD"));
  bool sent = false;
  for (const auto& h : s.headers) sent |= h.name == "x-amz-content-sha256" && h.value == "UNSIGNED-PAYLOAD";
  EXPECT_TRUE(sent);
}

TEST(SigV4, SessionTokenIsSignedInHeadersAndQuery) {
  const Credentials temporary{"ASIAEXAMPLE", "secret", "token/with+chars="};
  Request r;
  r.path = "/b/k";
  r.headers = {{"Host", "s3.us-east-1.amazonaws.com"}};

  const SignedRequest s = sign_request(r, temporary, kExampleScope, kExampleTime);
  EXPECT_NE(s.canonical_request.find("x-amz-security-token:token/with+chars=\n"), std::string::npos);
  EXPECT_EQ(signed_headers_of(s.authorization), "host;x-amz-content-sha256;x-amz-date;x-amz-security-token");

  const PresignedRequest p = presign(r, temporary, kExampleScope, kExampleTime, 60);
  EXPECT_NE(p.query.find("X-Amz-Security-Token=token%2Fwith%2Bchars%3D&X-Amz-SignedHeaders=host"), std::string::npos);
  EXPECT_NE(p.canonical_request.find("X-Amz-Security-Token=token%2Fwith%2Bchars%3D"), std::string::npos);
  EXPECT_TRUE(p.query.ends_with("&X-Amz-Signature=" + p.signature));
}

TEST(SigV4, PresignExpiryIsBoundedBySevenDays) {
  Request r;
  r.headers = {{"Host", kExampleHost}};
  EXPECT_NO_THROW(presign(r, kExampleCredentials, kExampleScope, kExampleTime, 1));
  EXPECT_NO_THROW(presign(r, kExampleCredentials, kExampleScope, kExampleTime, 604800));
  EXPECT_THROW(presign(r, kExampleCredentials, kExampleScope, kExampleTime, 0), std::invalid_argument);
  EXPECT_THROW(presign(r, kExampleCredentials, kExampleScope, kExampleTime, 604801), std::invalid_argument);
}

TEST(SigV4, SignatureDependsOnTheSecret) {
  Request r;
  r.path = "/test.txt";
  r.headers = {{"Host", kExampleHost}};
  Credentials other = kExampleCredentials;
  other.secret_access_key = "another-secret";
  const SignedRequest a = sign_request(r, kExampleCredentials, kExampleScope, kExampleTime);
  const SignedRequest b = sign_request(r, other, kExampleScope, kExampleTime);
  EXPECT_EQ(a.canonical_request, b.canonical_request);
  EXPECT_NE(a.signature, b.signature);
  EXPECT_EQ(a.authorization.find("another-secret"), std::string::npos);
  EXPECT_EQ(b.authorization.find("another-secret"), std::string::npos);
}
