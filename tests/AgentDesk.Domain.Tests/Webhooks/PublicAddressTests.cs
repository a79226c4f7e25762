using System.Net;
using AgentDesk.Domain.Webhooks;

namespace AgentDesk.Domain.Tests.Webhooks;

public sealed class PublicAddressTests
{
    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("10.1.2.3")]
    [InlineData("172.16.0.1")]
    [InlineData("172.31.255.255")]
    [InlineData("192.168.1.1")]
    [InlineData("169.254.169.254")] // cloud metadata
    [InlineData("100.64.0.1")]
    [InlineData("0.0.0.0")]
    [InlineData("224.0.0.1")]
    [InlineData("::1")]
    [InlineData("::")]
    [InlineData("fe80::1")]
    [InlineData("fd00::1")]
    [InlineData("::ffff:127.0.0.1")]
    [InlineData("::ffff:10.0.0.1")]
    [InlineData("::10.0.0.5")] // IPv4-compatible
    [InlineData("::127.0.0.1")]
    [InlineData("64:ff9b::a00:5")] // NAT64 to 10.0.0.5
    [InlineData("64:ff9b::a9fe:a9fe")] // NAT64 to 169.254.169.254
    [InlineData("64:ff9b:1::1")] // NAT64 for a network's own use
    [InlineData("2002:a00:5::1")] // 6to4 from 10.0.0.5
    [InlineData("2002:7f00:1::1")] // 6to4 from 127.0.0.1
    public void Internal_addresses_are_not_public(string address) => Assert.False(PublicAddresses.IsPublic(IPAddress.Parse(address)));

    [Theory]
    [InlineData("8.8.8.8")]
    [InlineData("172.32.0.1")]
    [InlineData("100.128.0.1")]
    [InlineData("2606:4700:4700::1111")]
    [InlineData("::ffff:8.8.8.8")]
    [InlineData("64:ff9b::808:808")] // NAT64 to 8.8.8.8
    [InlineData("2002:808:808::1")] // 6to4 from 8.8.8.8
    public void Public_addresses_are_public(string address) => Assert.True(PublicAddresses.IsPublic(IPAddress.Parse(address)));
}
