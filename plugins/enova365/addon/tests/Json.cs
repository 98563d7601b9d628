// A small JSON reader and writer for the tests (Mono ships no JSON library), and a mapper between
// JSON objects and the contract classes by property name: a field with no property of that name
// fails, so a name cannot drift between the examples and the add-on.
using System;
using System.Collections;
using System.Collections.Generic;
using System.Globalization;
using System.Reflection;
using System.Text;

namespace OrderLink.Enova365.Testy
{
    /// <summary>JSON values: null, bool, double, string, List&lt;object&gt;, Dictionary&lt;string, object&gt;.</summary>
    public static class Json
    {
        /// <summary>Parses a JSON text.</summary>
        public static object Parse(string text)
        {
            int i = 0;
            var v = Value(text, ref i);
            Ws(text, ref i);
            if (i != text.Length) throw new FormatException("JSON: trailing text at " + i);
            return v;
        }

        static void Ws(string s, ref int i)
        {
            while (i < s.Length && char.IsWhiteSpace(s[i])) i++;
        }

        static object Value(string s, ref int i)
        {
            Ws(s, ref i);
            if (i >= s.Length) throw new FormatException("JSON: unexpected end");
            char c = s[i];
            if (c == '{')
            {
                var o = new Dictionary<string, object>();
                i++;
                Ws(s, ref i);
                if (s[i] == '}') { i++; return o; }
                while (true)
                {
                    Ws(s, ref i);
                    var k = Str(s, ref i);
                    Ws(s, ref i);
                    Expect(s, ref i, ':');
                    o[k] = Value(s, ref i);
                    Ws(s, ref i);
                    if (s[i] == ',') { i++; continue; }
                    Expect(s, ref i, '}');
                    return o;
                }
            }
            if (c == '[')
            {
                var a = new List<object>();
                i++;
                Ws(s, ref i);
                if (s[i] == ']') { i++; return a; }
                while (true)
                {
                    a.Add(Value(s, ref i));
                    Ws(s, ref i);
                    if (s[i] == ',') { i++; continue; }
                    Expect(s, ref i, ']');
                    return a;
                }
            }
            if (c == '"') return Str(s, ref i);
            if (s.Substring(i).StartsWith("null")) { i += 4; return null; }
            if (s.Substring(i).StartsWith("true")) { i += 4; return true; }
            if (s.Substring(i).StartsWith("false")) { i += 5; return false; }
            int start = i;
            while (i < s.Length && "+-0123456789.eE".IndexOf(s[i]) >= 0) i++;
            return double.Parse(s.Substring(start, i - start), CultureInfo.InvariantCulture);
        }

        static void Expect(string s, ref int i, char c)
        {
            if (i >= s.Length || s[i] != c) throw new FormatException("JSON: expected '" + c + "' at " + i);
            i++;
        }

        static string Str(string s, ref int i)
        {
            Expect(s, ref i, '"');
            var b = new StringBuilder();
            while (s[i] != '"')
            {
                if (s[i] == '\\')
                {
                    i++;
                    switch (s[i])
                    {
                        case 'n': b.Append('\n'); break;
                        case 't': b.Append('\t'); break;
                        case 'r': b.Append('\r'); break;
                        case 'b': b.Append('\b'); break;
                        case 'f': b.Append('\f'); break;
                        case 'u': b.Append((char)int.Parse(s.Substring(i + 1, 4), NumberStyles.HexNumber)); i += 4; break;
                        default: b.Append(s[i]); break;
                    }
                    i++;
                }
                else b.Append(s[i++]);
            }
            i++;
            return b.ToString();
        }

        /// <summary>Writes a JSON value (keys in the order held).</summary>
        public static string Write(object v)
        {
            var b = new StringBuilder();
            Write(b, v);
            return b.ToString();
        }

        static void Write(StringBuilder b, object v)
        {
            if (v == null) { b.Append("null"); return; }
            if (v is bool) { b.Append((bool)v ? "true" : "false"); return; }
            if (v is double) { b.Append(((double)v).ToString("R", CultureInfo.InvariantCulture)); return; }
            var s = v as string;
            if (s != null)
            {
                b.Append('"');
                foreach (var ch in s)
                {
                    if (ch == '"' || ch == '\\') b.Append('\\').Append(ch);
                    else if (ch < ' ') b.Append("\\u").Append(((int)ch).ToString("x4"));
                    else b.Append(ch);
                }
                b.Append('"');
                return;
            }
            var o = v as Dictionary<string, object>;
            if (o != null)
            {
                b.Append('{');
                var first = true;
                foreach (var kv in o)
                {
                    if (!first) b.Append(',');
                    first = false;
                    Write(b, kv.Key);
                    b.Append(':');
                    Write(b, kv.Value);
                }
                b.Append('}');
                return;
            }
            var a = (List<object>)v;
            b.Append('[');
            for (int k = 0; k < a.Count; k++)
            {
                if (k > 0) b.Append(',');
                Write(b, a[k]);
            }
            b.Append(']');
        }

        /// <summary>Structural equality (object keys in any order).</summary>
        public static bool Same(object a, object b)
        {
            if (a == null || b == null) return a == null && b == null;
            var oa = a as Dictionary<string, object>;
            var ob = b as Dictionary<string, object>;
            if (oa != null || ob != null)
            {
                if (oa == null || ob == null || oa.Count != ob.Count) return false;
                foreach (var kv in oa)
                {
                    object other;
                    if (!ob.TryGetValue(kv.Key, out other) || !Same(kv.Value, other)) return false;
                }
                return true;
            }
            var la = a as List<object>;
            var lb = b as List<object>;
            if (la != null || lb != null)
            {
                if (la == null || lb == null || la.Count != lb.Count) return false;
                for (int k = 0; k < la.Count; k++) if (!Same(la[k], lb[k])) return false;
                return true;
            }
            return a.Equals(b);
        }

        /// <summary>A contract object as JSON (every public property, by its name).</summary>
        public static object FromObject(object v)
        {
            if (v == null || v is string || v is bool) return v;
            if (v is int || v is long || v is double) return Convert.ToDouble(v, CultureInfo.InvariantCulture);
            var dict = v as IDictionary;
            if (dict != null)
            {
                var o = new Dictionary<string, object>();
                foreach (DictionaryEntry kv in dict) o[(string)kv.Key] = FromObject(kv.Value);
                return o;
            }
            var list = v as IEnumerable;
            if (list != null)
            {
                var a = new List<object>();
                foreach (var x in list) a.Add(FromObject(x));
                return a;
            }
            var obj = new Dictionary<string, object>();
            foreach (var p in v.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance))
                if (p.CanWrite) obj[p.Name] = FromObject(p.GetValue(v, null));
            return obj;
        }

        /// <summary>A contract object from JSON; a field with no property of that name throws.</summary>
        public static object ToObject(object json, Type t)
        {
            if (json == null) return null;
            var under = Nullable.GetUnderlyingType(t);
            if (under != null) t = under;
            if (t == typeof(string))
            {
                if (json is double) return ((double)json).ToString(CultureInfo.InvariantCulture);
                return (string)json;
            }
            if (t == typeof(bool)) return (bool)json;
            if (t == typeof(long)) return (long)(double)json;
            if (t == typeof(int)) return (int)(double)json;
            if (t.IsGenericType && t.GetGenericTypeDefinition() == typeof(List<>))
            {
                var list = (IList)Activator.CreateInstance(t);
                foreach (var x in (List<object>)json) list.Add(ToObject(x, t.GetGenericArguments()[0]));
                return list;
            }
            if (t.IsGenericType && t.GetGenericTypeDefinition() == typeof(Dictionary<,>))
            {
                var d = (IDictionary)Activator.CreateInstance(t);
                foreach (var kv in (Dictionary<string, object>)json) d[kv.Key] = ToObject(kv.Value, t.GetGenericArguments()[1]);
                return d;
            }
            var o = Activator.CreateInstance(t);
            foreach (var kv in (Dictionary<string, object>)json)
            {
                var p = t.GetProperty(kv.Key, BindingFlags.Public | BindingFlags.Instance);
                if (p == null || !p.CanWrite) throw new FormatException(t.Name + " has no field " + kv.Key);
                p.SetValue(o, ToObject(kv.Value, p.PropertyType), null);
            }
            return o;
        }
    }
}
