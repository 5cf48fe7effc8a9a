#include "contract/label_selector.hpp"

#include "lucid/registry/echoed_value.hpp"

namespace lucid::host::contract {
namespace {

// A cursor over the selector text; every error names the whole selector.
class Reader {
  public:
    explicit Reader(std::string_view text) : text_(text) {}

    void skip_spaces() {
        while (pos_ < text_.size() && text_[pos_] == ' ') ++pos_;
    }
    bool at_end() {
        skip_spaces();
        return pos_ >= text_.size();
    }
    bool take(char c) {
        skip_spaces();
        if (pos_ < text_.size() && text_[pos_] == c) {
            ++pos_;
            return true;
        }
        return false;
    }
    bool take_word(std::string_view word) {
        skip_spaces();
        if (text_.substr(pos_, word.size()) != word) return false;
        const std::size_t end = pos_ + word.size();
        // A whole word: "in" must not be the start of "inside".
        if (end < text_.size() && text_[end] != ' ' && text_[end] != '(') return false;
        pos_ = end;
        return true;
    }
    // A key or value: the characters labels are made of (checked by the caller).
    std::string word() {
        skip_spaces();
        const std::size_t start = pos_;
        while (pos_ < text_.size()) {
            const char c = text_[pos_];
            if (c == ',' || c == '=' || c == '!' || c == '(' || c == ')' || c == ' ') break;
            ++pos_;
        }
        return std::string(text_.substr(start, pos_ - start));
    }
    Error fail(const std::string& why) const {
        return Error{Errc::invalid, "selector '" + registry::echoed_value(text_) + "': " + why};
    }

  private:
    std::string_view text_;
    std::size_t pos_ = 0;
};

}  // namespace

bool LabelSelector::matches(const Labels& labels) const {
    for (const auto& r : requirements_) {
        const auto it = labels.find(r.key);
        const bool has = it != labels.end();
        switch (r.op) {
            case Op::exists:
                if (!has) return false;
                break;
            case Op::not_exists:
                if (has) return false;
                break;
            case Op::equals:
            case Op::in:
                if (!has || !r.values.count(it->second)) return false;
                break;
            case Op::not_equals:
            case Op::not_in:
                if (has && r.values.count(it->second)) return false;
                break;
        }
    }
    return true;
}

Expected<LabelSelector> parse_label_selector(std::string_view text) {
    LabelSelector selector;
    Reader in(text);
    if (in.at_end()) return selector;
    while (true) {
        LabelSelector::Requirement r;
        const bool negated = in.take('!');
        r.key = in.word();
        if (r.key.empty()) return in.fail("a label key is missing");
        if (Status key = check_label_key(r.key); !key) return in.fail(key.error().message);
        if (negated) {
            r.op = LabelSelector::Op::not_exists;
        } else if (in.take('!')) {
            if (!in.take('=')) return in.fail("'!' after '" + r.key + "' must be '!='");
            r.op = LabelSelector::Op::not_equals;
        } else if (in.take('=')) {
            in.take('=');  // key==value
            r.op = LabelSelector::Op::equals;
        } else if (in.take_word("notin")) {
            r.op = LabelSelector::Op::not_in;
        } else if (in.take_word("in")) {
            r.op = LabelSelector::Op::in;
        } else {
            r.op = LabelSelector::Op::exists;
        }
        if (r.op == LabelSelector::Op::equals || r.op == LabelSelector::Op::not_equals) {
            const std::string value = in.word();
            if (!valid_label_text(value)) {
                return in.fail("the value of '" + r.key + "' must match " +
                               std::string(kLabelPattern));
            }
            r.values.insert(value);
        } else if (r.op == LabelSelector::Op::in || r.op == LabelSelector::Op::not_in) {
            const char* word = r.op == LabelSelector::Op::in ? " in'" : " notin'";
            if (!in.take('(')) return in.fail("'(' expected after '" + r.key + word);
            do {
                const std::string value = in.word();
                if (!valid_label_text(value)) {
                    return in.fail("a value in the set of '" + r.key + "' must match " +
                                   std::string(kLabelPattern));
                }
                r.values.insert(value);
            } while (in.take(','));
            if (!in.take(')')) return in.fail("missing ')'");
        }
        selector.requirements_.push_back(std::move(r));
        if (in.at_end()) break;
        if (!in.take(',')) return in.fail("',' expected between requirements");
    }
    return selector;
}

}  // namespace lucid::host::contract
