// A label selector in the grammar Kubernetes operators know (contract §9, lucidctl agents
// --select): requirements separated by commas, all of which must hold:
//   key=value  key==value  key!=value  key in (a,b)  key notin (a,b)  key  !key
// `key!=value` and `key notin (…)` also hold for an agent without the key. Spaces around
// words are allowed. "" selects every agent.
//
//   auto selector = parse_label_selector("site=berlin,role!=test");
//   if (!selector) fail(selector.error().message);   // names the requirement and what is wrong
//   if (selector.value().matches(labels)) ...
//
// Thread: a value type. Errors: Expected, e.g. "selector 'site in (a': missing ')'".
#pragma once

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/expected.hpp"
#include "contract/labels.hpp"

namespace lucid::host::contract {

class LabelSelector {
  public:
    enum class Op { equals, not_equals, in, not_in, exists, not_exists };
    struct Requirement {
        std::string key;
        Op op = Op::exists;
        std::set<std::string> values;  // one for equals/not_equals
    };

    bool matches(const Labels& labels) const;
    const std::vector<Requirement>& requirements() const { return requirements_; }

  private:
    friend Expected<LabelSelector> parse_label_selector(std::string_view text);
    std::vector<Requirement> requirements_;
};

Expected<LabelSelector> parse_label_selector(std::string_view text);

}  // namespace lucid::host::contract
